"""Status: what each alias serves and can roll back to, and what versions cost."""

from __future__ import annotations

import pytest

from lambda_gate import aliases
from lambda_gate.aliases import status


@pytest.fixture(scope="module")
def function(lambda_client, make_function):
    """Versions 1-4; main went 1 -> 2 -> 3 and sends 25% to 4; feature-x serves 1."""
    name = make_function(versions=4, prefix="status")
    for version in ("1", "2", "3"):
        aliases.promote(lambda_client, name, "main", version)
    main = aliases.get_alias(lambda_client, name, "main")
    aliases.shift_weight(lambda_client, name, main, "4", 0.25)
    aliases.promote(lambda_client, name, "feature-x", "1")
    return name


@pytest.fixture(scope="module")
def report(lambda_client, function):
    return status.gather(lambda_client, function, "local").as_json()


def test_status_json_has_the_documented_keys(report):
    assert set(report) == {"schema", "function", "environment", "aliases", "versions",
                           "account"}
    assert report["schema"] == 1
    assert set(report["aliases"][0]) == {"name", "version", "weights", "code_sha256",
                                         "last_modified", "history", "rolled_back"}


def test_each_alias_shows_its_version_weights_and_history(report):
    rows = {a["name"]: (a["version"], a["weights"], a["history"]) for a in report["aliases"]}

    assert rows == {"feature-x": ("1", {}, []), "main": ("3", {"4": 0.25}, ["2", "1"])}


def test_each_alias_shows_its_versions_code_hash_and_modification_time(
        report, lambda_client, function):
    live = lambda_client.get_function_configuration(FunctionName=function, Qualifier="3")
    (main,) = [a for a in report["aliases"] if a["name"] == "main"]

    assert (main["code_sha256"], main["last_modified"]) == (live["CodeSha256"],
                                                            live["LastModified"])


def test_status_counts_the_published_versions_and_their_code(report, lambda_client, function):
    sizes = [v["CodeSize"] for v in lambda_client.list_versions_by_function(
        FunctionName=function)["Versions"] if v["Version"] != "$LATEST"]

    assert report["versions"] == {"count": 4, "code_size": sum(sizes)}


def test_status_includes_the_accounts_code_storage(report, lambda_client):
    settings = lambda_client.get_account_settings()

    assert report["account"]["code_storage_limit"] == settings["AccountLimit"]["TotalCodeSize"]
    assert report["account"]["code_storage_used"] >= report["versions"]["code_size"]


def test_status_text_shows_a_canary_share(lambda_client, function):
    text = status.gather(lambda_client, function, "local").as_text()

    assert "main: version 3, 25% to 4" in text
    assert "history 2,1" in text
    assert "4 published version(s)" in text


def test_status_shows_the_versions_a_rollback_left(lambda_client, make_function):
    function = make_function(versions=3, prefix="status-rolled")
    for version in ("1", "2", "3"):
        aliases.promote(lambda_client, function, "main", version)
    aliases.rollback(lambda_client, function, "main")

    found = status.gather(lambda_client, function, "local")

    (main,) = found.as_json()["aliases"]
    assert (main["version"], main["history"], main["rolled_back"]) == ("2", ["1"], ["3"])
    assert "history 1  rolled back from 3" in found.as_text()
