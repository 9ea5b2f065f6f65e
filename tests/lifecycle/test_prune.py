"""Pruning deletes old versions, never one an alias uses, and says what it freed."""

from __future__ import annotations

import pytest

from lambda_gate import aliases
from lambda_gate.aliases import prune
from lambda_gate.aliases.prune import VersionInfo
from lambda_gate.errors import ConfigError


def versions(*numbers: int, size: int = 10) -> list[VersionInfo]:
    return [VersionInfo("$LATEST", size), *(VersionInfo(str(n), size) for n in numbers)]


def alias(name: str, version: str, **weights: float) -> dict:
    return {"Name": name, "FunctionVersion": version,
            "RoutingConfig": {"AdditionalVersionWeights": weights}}


def test_the_plan_keeps_the_newest_and_deletes_the_rest_oldest_first():
    plan = prune.plan_prune(versions(*range(1, 8)), [], keep=3)

    assert plan.keep_newest == ("7", "6", "5")
    assert [v.version for v in plan.delete] == ["1", "2", "3", "4"]


def test_the_plan_keeps_primary_and_weighted_versions_of_every_alias():
    plan = prune.plan_prune(versions(*range(1, 8)),
                            [alias("main", "2", **{"3": 0.1}), alias("old", "1")], keep=1)

    assert plan.keep_aliased == {"1": ("old",), "2": ("main",), "3": ("main",)}
    assert [v.version for v in plan.delete] == ["4", "5", "6"]


def test_the_plan_orders_versions_by_number_not_by_text():
    plan = prune.plan_prune(versions(9, 10, 100, 11), [], keep=2)

    assert plan.keep_newest == ("100", "11")


def test_the_plan_counts_the_code_it_frees():
    plan = prune.plan_prune(versions(1, 2, 3, size=1000), [], keep=1)

    assert plan.freed_bytes == 2000


@pytest.mark.parametrize(("keep", "message"), [
    (0, "--keep 0 would delete every unaliased version"),
    (-2, "--keep -2 would delete every unaliased version"),
    ("many", "--keep 'many' is not a number"),
])
def test_keeping_fewer_than_one_is_a_clear_error(keep, message):
    with pytest.raises(ConfigError, match=message):
        prune.validate_keep(keep)


@pytest.fixture(scope="module")
def pruned(lambda_client, make_function):
    """120 versions; main on 100 with 10% to 110, staging on 7, feature on 40; keep 5."""
    function = make_function(versions=120, prefix="prune")
    aliases.promote(lambda_client, function, "main", "100")
    main = aliases.get_alias(lambda_client, function, "main")
    aliases.shift_weight(lambda_client, function, main, "110", 0.1)
    aliases.promote(lambda_client, function, "staging", "7")
    aliases.promote(lambda_client, function, "feature", "40")
    total = sum(v["CodeSize"] for page in lambda_client.get_paginator(
        "list_versions_by_function").paginate(FunctionName=function)
        for v in page["Versions"] if v["Version"] != "$LATEST")
    lines: list[str] = []
    result = prune.prune(lambda_client, function, 5, log=lines.append)
    return function, result, total, lines


def test_prune_keeps_every_aliased_version_and_the_newest_and_nothing_else(
        pruned, lambda_state):
    function, *_ = pruned

    assert lambda_state.versions(function) == ["7", "40", "100", "110", "116", "117", "118",
                                               "119", "120"]


def test_prune_leaves_the_aliases_where_they_were(pruned, lambda_state):
    function, *_ = pruned

    assert lambda_state.alias(function, "main") == ("100", {"110": 0.1})
    assert lambda_state.alias(function, "staging") == ("7", {})
    assert lambda_state.alias(function, "feature") == ("40", {})


def test_prune_reports_what_it_deleted_and_the_code_storage_freed(pruned, lambda_client):
    function, result, total_before, lines = pruned
    total_after = sum(v["CodeSize"] for v in lambda_client.list_versions_by_function(
        FunctionName=function)["Versions"] if v["Version"] != "$LATEST")

    assert len(result.deleted) == 111
    assert result.skipped == {}  # the plan itself kept the aliased versions
    assert result.freed_bytes == total_before - total_after > 0
    assert f"deleted {function}:1 (" in lines[0]
    assert result.summary().startswith(f"deleted 111 version(s) of {function}, freed ")


def test_a_dry_run_deletes_nothing_and_says_what_it_would(
        lambda_client, lambda_state, make_function):
    function = make_function(versions=60, prefix="prune-dry")
    aliases.promote(lambda_client, function, "main", "3")
    before = lambda_state.versions(function)
    lines: list[str] = []

    result = prune.prune(lambda_client, function, 2, dry_run=True, log=lines.append)

    assert lambda_state.versions(function) == before
    assert [v.version for v in result.plan.delete] == [
        str(n) for n in range(1, 59) if n != 3]
    assert lines[0].startswith(f"would delete {function}:1 (")
    assert result.summary().startswith("dry run: would delete 57 version(s)")


def test_pruning_a_missing_function_says_how_to_fix_it(lambda_client):
    with pytest.raises(Exception, match="function no-such-fn does not exist: check "
                                        "lambda_gate.function.name"):
        prune.prune(lambda_client, "no-such-fn", 3)
