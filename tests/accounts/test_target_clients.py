"""A deploy's boto3 clients: made once, and made while terraform runs when warmed."""

from __future__ import annotations

import threading

import pytest

from lambda_gate.aws import AwsTarget, local_target
from lambda_gate.errors import ConfigError


def test_a_warmed_client_is_the_one_every_later_call_gets(local_aws):
    made = []
    target = local_target("us-east-1", local_aws.url)
    counting = AwsTarget(region=target.region, endpoint_url=target.endpoint_url,
                         env=target.env,
                         new_session=lambda: made.append(1) or target.new_session())

    counting.warm("lambda", "sts")
    client = counting.client("lambda")

    assert client is counting.client("lambda")
    assert counting.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert made == [1]


def test_a_warm_up_that_fails_leaves_the_error_to_the_call_that_needs_the_client(
        monkeypatch: pytest.MonkeyPatch):
    escaped: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_value))

    def no_session():
        raise ConfigError("AWS profile 'gone' cannot be used")

    target = AwsTarget(region="us-east-1", endpoint_url=None, env={}, new_session=no_session)
    target.warm("lambda").join()

    with pytest.raises(ConfigError, match="profile 'gone' cannot be used"):
        target.client("lambda")
    assert escaped == []
