"""Pruning deletes old versions, never one an alias uses, and says what it freed.

The plan is tested as the pure function it is, then :func:`prune.prune` against the
local AWS; last, ``invoke prune`` through the command line, with deploy records saying
which versions passed, shows it keeps what ``invoke rollback`` needs.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path

import boto3
import pytest

from lambda_gate import aliases, config, records
from lambda_gate.aliases import prune
from lambda_gate.aliases.prune import VersionInfo
from lambda_gate.aws import AwsTarget
from lambda_gate.errors import ConfigError
from lambda_gate.record_store import RecordStore


def versions(*numbers: int, size: int = 10) -> list[VersionInfo]:
    return [VersionInfo("$LATEST", size), *(VersionInfo(str(n), size) for n in numbers)]


def alias(name: str, version: str, history: str = "", **weights: float) -> dict:
    """An alias as ListAliases returns it; ``history`` as in its description ("3,2")."""
    return {"Name": name, "FunctionVersion": version,
            "Description": f"lambda-gate history: {history}",
            "RoutingConfig": {"AdditionalVersionWeights": weights}}


def every_version(among):
    """Every version passed its smoke tests: --keep then counts every version."""
    return among


EVERY = {str(n) for n in range(1, 1000)}


def test_the_plan_keeps_the_newest_and_deletes_the_rest_oldest_first():
    plan = prune.plan_prune(versions(*range(1, 8)), [], keep=3, passing=EVERY)

    assert plan.keep_newest == ("7", "6", "5")
    assert [v.version for v in plan.delete] == ["1", "2", "3", "4"]


def test_the_plan_keeps_primary_and_weighted_versions_of_every_alias():
    plan = prune.plan_prune(versions(*range(1, 8)),
                            [alias("main", "2", **{"3": 0.1}), alias("old", "1")], keep=1,
                            passing=EVERY)

    assert plan.keep_aliased == {"1": ("old",), "2": ("main",), "3": ("main",)}
    assert [v.version for v in plan.delete] == ["4", "5", "6"]


def test_the_plan_orders_versions_by_number_not_by_text():
    plan = prune.plan_prune(versions(9, 10, 100, 11), [], keep=2, passing=EVERY)

    assert plan.keep_newest == ("100", "11")


def test_the_plan_counts_the_code_it_frees():
    plan = prune.plan_prune(versions(1, 2, 3, size=1000), [], keep=1, passing=EVERY)

    assert plan.freed_bytes == 2000


def test_only_versions_that_passed_count_toward_keep():
    plan = prune.plan_prune(versions(*range(1, 8)), [], keep=2, passing={"2", "4", "5"})

    assert plan.keep_newest == ("5", "4")
    assert [v.version for v in plan.delete] == ["1", "2", "3", "6", "7"]


def test_with_no_passing_version_only_what_the_aliases_need_is_kept():
    plan = prune.plan_prune(versions(*range(1, 6)), [alias("main", "3", "2")], keep=3,
                            passing=set())

    assert plan.keep_newest == ()
    assert [v.version for v in plan.delete] == ["1", "4", "5"]


def test_the_plan_keeps_the_first_keep_history_versions_of_each_alias_history():
    plan = prune.plan_prune(versions(*range(1, 10)),
                            [alias("main", "6", "5,4,3"), alias("dev", "9", "8,2")],
                            keep=1, passing=set(), keep_history=2)

    assert [v.version for v in plan.delete] == ["1", "3", "7"]


def test_the_rollback_target_is_kept_even_with_keep_history_zero():
    plan = prune.plan_prune(versions(*range(1, 7)), [alias("main", "6", "5,4")], keep=1,
                            passing=set(), keep_history=0)

    assert plan.reasons["5"] == ("main's history (rollback target)",)
    assert [v.version for v in plan.delete] == ["1", "2", "3", "4"]


def test_the_plan_says_why_each_version_is_kept():
    plan = prune.plan_prune(
        versions(*range(1, 10)),
        [alias("main", "7", "6,5,4", **{"9": 0.1}), alias("dev", "8", "6")],
        keep=2, passing={"7", "4", "3", "1"})

    assert plan.reasons == {
        "9": ("weighted 10% on main",),
        "8": ("dev's version",),
        "7": ("main's version", "one of the newest 2 passing"),
        "6": ("dev's history (rollback target)", "main's history (rollback target)"),
        "5": ("main's history",),
        "4": ("one of the newest 2 passing",),
    }
    assert plan.kept == ("9", "8", "7", "6", "5", "4")
    assert [v.version for v in plan.delete] == ["1", "2", "3"]


def test_history_versions_already_deleted_are_not_listed_as_kept():
    plan = prune.plan_prune(versions(4, 5, 6), [alias("main", "6", "3,2")], keep=1,
                            passing={"6"})

    assert plan.kept == ("6",)
    assert [v.version for v in plan.delete] == ["4", "5"]


@pytest.mark.parametrize(("keep", "message"), [
    (0, "--keep 0 would delete every unaliased version"),
    (-2, "--keep -2 would delete every unaliased version"),
    ("many", "--keep 'many' is not a number"),
])
def test_keeping_fewer_than_one_is_a_clear_error(keep, message):
    with pytest.raises(ConfigError, match=message):
        prune.validate_keep(keep)


def keep_history_setting(value=None):
    defaults = copy.deepcopy(config.DEFAULTS)
    if value is not None:
        defaults["aliases"]["keep_history"] = value
    return config.load({"lambda_gate": defaults}, root=Path("/repo")).keep_history


def test_keep_history_is_2_unless_set_enough_to_roll_back_twice():
    assert keep_history_setting() == 2
    assert keep_history_setting(5) == 5
    assert keep_history_setting("0") == 0


@pytest.mark.parametrize("bad", [-1, True, 1.5, "1.5", "two", [2]])
def test_keep_history_must_be_a_whole_number_from_0(bad):
    with pytest.raises(ConfigError, match=r"lambda_gate\.aliases\.keep_history must be a "
                                          r"whole number, 0 or more \(how many versions"):
        keep_history_setting(bad)


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
    result = prune.prune(lambda_client, function, 5, passing=every_version,
                         log=lines.append)
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

    result = prune.prune(lambda_client, function, 2, passing=every_version, dry_run=True,
                         log=lines.append)

    assert lambda_state.versions(function) == before
    assert [v.version for v in result.plan.delete] == [
        str(n) for n in range(1, 59) if n != 3]
    assert lines[:3] == [f"would keep {function}:60: one of the newest 2 passing",
                         f"would keep {function}:59: one of the newest 2 passing",
                         f"would keep {function}:3: main's version"]
    assert lines[3].startswith(f"would delete {function}:1 (")
    assert result.summary().startswith("dry run: would delete 57 version(s)")


def test_pruning_a_missing_function_says_how_to_fix_it(lambda_client):
    with pytest.raises(Exception, match="function no-such-fn does not exist: check "
                                        "lambda_gate.function.name"):
        prune.prune(lambda_client, "no-such-fn", 3, passing=every_version)


# -- invoke prune, with deploy records: what rollback needs stays ---------------------


def record(directory: Path, function: str, version: str, *, passed: bool) -> None:
    """A deploy record of ``function:version``'s smoke tests, as a deploy leaves it."""
    records.write(records.DeployRecord(
        environment="local", function=function, version=version, smoke_passed=passed,
        outcome="promoted" if passed else "gate-closed"), directory)


@pytest.fixture(scope="module")
def project(make_project):
    return make_project("prune-cli")


@pytest.fixture
def deployed(project, lambda_client, make_function):
    """Versions 1-6; main went 1 -> 2 -> 3 -> 4 (history 3,2,1), each of those passed its
    smoke tests; 5 failed them and 6 was never tested, so the newest is no good."""
    function = make_function(versions=6, prefix="prune-rb")
    for version in ("1", "2", "3", "4"):
        aliases.promote(lambda_client, function, "main", version)
    directory = project.root / ".lambda-gate" / "env" / "local" / "records"
    for version in ("1", "2", "3", "4"):
        record(directory, function, version, passed=True)
    record(directory, function, "5", passed=False)
    return function


@pytest.fixture
def run(project, deployed):
    def run_task(*args: str, **env: str):
        return project.invoke(*args, extra_env={"INVOKE_LAMBDA_GATE_FUNCTION_NAME": deployed,
                                                **env})

    return run_task


def test_keep_1_keeps_the_alias_version_and_its_history_and_deletes_the_failed_newest(
        run, lambda_state, deployed):
    result = run("prune", "--keep", "1")

    assert result.returncode == 0, result.stderr
    assert lambda_state.versions(deployed) == ["2", "3", "4"]
    assert lambda_state.alias(deployed, "main") == ("4", {})


def test_after_pruning_rollback_can_still_go_back_twice(run, lambda_state, deployed):
    assert run("prune", "--keep", "1").returncode == 0

    first, second = run("rollback"), run("rollback")

    assert first.returncode == 0, first.stderr
    assert "rolled back main: 4 -> 3" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "rolled back main: 3 -> 2" in second.stdout
    assert lambda_state.alias(deployed, "main") == ("2", {})


def test_keep_counts_only_versions_that_passed(run, lambda_state, deployed):
    result = run("prune", "--keep", "4", INVOKE_LAMBDA_GATE_ALIASES_KEEP_HISTORY="0")

    assert result.returncode == 0, result.stderr
    assert lambda_state.versions(deployed) == ["1", "2", "3", "4"]


def test_a_dry_run_says_why_each_version_is_kept_and_deletes_nothing(
        run, lambda_client, lambda_state, deployed):
    main = aliases.get_alias(lambda_client, deployed, "main")
    aliases.shift_weight(lambda_client, deployed, main, "6", 0.1)

    result = run("prune", "--keep", "1", "--dry-run")

    assert result.returncode == 0, result.stderr
    for line in (f"would keep {deployed}:6: weighted 10% on main",
                 f"would keep {deployed}:4: main's version; one of the newest 1 passing",
                 f"would keep {deployed}:3: main's history (rollback target)",
                 f"would keep {deployed}:2: main's history",
                 f"would delete {deployed}:1 (", f"would delete {deployed}:5 ("):
        assert line in result.stdout
    assert "dry run: would delete 2 version(s)" in result.stdout
    assert lambda_state.versions(deployed) == ["1", "2", "3", "4", "5", "6"]


@pytest.mark.parametrize(("keep_history", "left"), [
    ("3", ["1", "2", "3", "4"]),
    ("1", ["3", "4"]),
    ("0", ["3", "4"]),  # the rollback target stays whatever the setting
])
def test_keep_history_sets_how_much_of_the_history_stays(run, lambda_state, deployed,
                                                         keep_history, left):
    result = run("prune", "--keep", "1", INVOKE_LAMBDA_GATE_ALIASES_KEEP_HISTORY=keep_history)

    assert result.returncode == 0, result.stderr
    assert lambda_state.versions(deployed) == left


@pytest.mark.parametrize("bad", ["-1", "two", "1.5"])
def test_a_bad_keep_history_is_a_clear_error_and_deletes_nothing(run, lambda_state,
                                                                  deployed, bad):
    result = run("prune", "--keep", "1", INVOKE_LAMBDA_GATE_ALIASES_KEEP_HISTORY=bad)

    assert result.returncode == 2
    assert (f"error: lambda_gate.aliases.keep_history must be a whole number, 0 or more "
            f"(how many versions of each alias's history prune keeps), got {bad!r}."
            ) in result.stderr
    assert "Traceback" not in result.stderr
    assert lambda_state.versions(deployed) == ["1", "2", "3", "4", "5", "6"]


def test_shared_records_are_listed_once_and_only_those_of_live_versions_read(local_aws):
    """A prune asks about every version at once: one listing of the bucket, and a read
    only of the records whose names carry a version that still exists."""
    bucket = f"prune-records-{uuid.uuid4().hex[:8]}"
    target = AwsTarget(region="us-east-1", endpoint_url=local_aws.url, env={},
                       new_session=boto3.Session)
    target.client("s3").create_bucket(Bucket=bucket)
    store = RecordStore(Path("/nonexistent"), f"s3://{bucket}/team/", target)
    for version, passed in (("1", True), ("2", False), ("3", True), ("40", True)):
        store.write(records.DeployRecord(environment="local", function="fn",
                                         version=version, smoke_passed=passed,
                                         started_at=1_700_000_000 + int(version)))
    store.write(records.DeployRecord(environment="local", function="other", version="2",
                                     smoke_passed=True))
    calls: list[str] = []
    target.client("s3").meta.events.register(
        "before-call.s3.*", lambda model, **_: calls.append(model.name))

    found = store.passing_versions("fn", ["1", "2", "3"])

    assert found == {"1", "3"}
    assert calls.count("ListObjectsV2") == 1
    assert calls.count("GetObject") == 4  # 1, 2, 3 and other's 2; not 40
