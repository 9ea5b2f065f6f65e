"""Log tails never show a secret: the function's values, nor AWS keys printed by name."""

from __future__ import annotations

import pytest

from lambda_gate.pytest_plugin.invoker import Redactor

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc="


@pytest.mark.parametrize("line", [
    f"AWS_SECRET_ACCESS_KEY={SECRET}",
    f"'AWS_SECRET_ACCESS_KEY': '{SECRET}'",
    f'"AWS_SESSION_TOKEN": "{TOKEN}"',
    f"aws_secret_access_key = {SECRET}",
    f"environ({{'AWS_SESSION_TOKEN': '{TOKEN}', 'AWS_SECRET_ACCESS_KEY': '{SECRET}'}})",
    f'{{"SecretAccessKey": "{SECRET}", "SessionToken": "{TOKEN}"}}',
], ids=["env-line", "dict-repr", "json", "ini", "environ-repr", "sts-json"])
def test_aws_credentials_printed_with_their_names_are_redacted(line):
    shown = Redactor()(line)

    assert SECRET not in shown and TOKEN not in shown
    assert "[redacted]" in shown


def test_the_functions_own_values_are_redacted_and_short_ones_kept():
    redact = Redactor(["s3cr3t-value", "1"])

    assert redact("db password s3cr3t-value, retries 1") == (
        "db password [redacted], retries 1")
    assert "s3cr3t" not in repr(redact)


def test_an_access_key_id_is_no_secret_and_stays():
    assert Redactor()("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE") == (
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE")
