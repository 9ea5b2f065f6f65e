"""A deploy that lost a race says which one and what it left, in its summary line and
its record's outcome; a lock left by a run that is gone is told apart from both."""

from __future__ import annotations

import pytest
from invoke import Config

from lambda_gate import config
from lambda_gate.errors import AliasConflict, GateClosed, OutOfOrder, StaleLock, StateLocked
from lambda_gate.pipeline.summary import deploy_summary, failure_outcome
from lambda_gate.records import DeployRecord
from lambda_gate.settings import Settings
from lambda_gate.tasks import ns


@pytest.fixture
def settings(tmp_path) -> Settings:
    return config.load(Config(defaults=ns.configuration()), root=tmp_path)


@pytest.mark.parametrize(("error", "outcome", "code"), [
    (StateLocked("locked"), "lost-race", 4),
    (AliasConflict("moved"), "lost-race", 4),
    (StaleLock("gone"), "stale-lock", 5),
    (OutOfOrder("older"), "out-of-order", 4),
    (GateClosed("closed"), "failed", 1),
])
def test_each_error_has_its_outcome_and_exit_code(error, outcome, code):
    assert (failure_outcome(error), error.exit_code) == (outcome, code)


def test_a_deploy_that_lost_the_lock_published_nothing(settings):
    record = DeployRecord(environment="ci", alias="main", outcome="lost-race")

    assert deploy_summary(settings, record, None, "apply") == (
        "lost the race for terraform's state lock: nothing published; main untouched")


def test_a_deploy_that_lost_the_alias_left_its_version_unaliased(settings):
    record = DeployRecord(environment="ci", alias="main", function="api", version="5",
                          alias_before="4", outcome="lost-race")

    assert deploy_summary(settings, record, None, "promote") == (
        "lost the race for main: another deploy moved it first; version 5 is left "
        "published, unaliased")


def test_a_stale_lock_is_no_race(settings):
    record = DeployRecord(environment="ci", alias="main", outcome="stale-lock")

    assert deploy_summary(settings, record, None, "apply") == (
        "terraform's state lock is held by a run that is gone: nothing published; main "
        "untouched")


def test_a_deploy_of_the_version_rolled_back_from_says_so(settings):
    record = DeployRecord(environment="ci", alias="main", function="api", version="5",
                          alias_before="4", outcome="out-of-order")

    assert deploy_summary(settings, record, None, "apply") == (
        "not promoted: main was rolled back from version 5; main stays at 4; 0 tests passed")
