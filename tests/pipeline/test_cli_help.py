"""`invoke --list` and `invoke --help TASK` explain every task and every argument."""

from __future__ import annotations

import pytest

from lambda_gate.tasks import ns

TASKS = sorted(ns.task_names)


def test_the_collection_offers_the_pipeline_and_lifecycle_tasks():
    assert {"build", "plan", "apply", "smoke", "promote", "deploy", "local-aws", "rollback",
            "status", "prune", "cleanup"} <= set(TASKS)


@pytest.mark.parametrize("name", TASKS)
def test_every_task_has_a_summary_and_every_argument_a_help_line(name):
    task = ns[name]

    assert (task.__doc__ or "").strip(), f"{name} has no docstring"
    assert [a.name for a in task.get_arguments() if not a.help] == []
