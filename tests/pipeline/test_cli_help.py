"""`invoke --list` and `invoke --help TASK` explain every task and every argument."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# invoke hands each help text out once (Task.get_arguments pops it), so the collection
# is inspected in a fresh process, as `invoke --help` sees it.
INSPECT = """
import json
from lambda_gate.tasks import ns
print(json.dumps({name: {"doc": (ns[name].__doc__ or "").strip(),
                         "undocumented": [a.name for a in ns[name].get_arguments()
                                          if not a.help]}
                  for name in ns.task_names}))
"""


@pytest.fixture(scope="module")
def tasks() -> dict[str, dict]:
    out = subprocess.run([sys.executable, "-c", INSPECT], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def test_the_collection_offers_the_pipeline_and_lifecycle_tasks(tasks):
    assert {"build", "plan", "apply", "smoke", "promote", "deploy", "local-aws", "rollback",
            "status", "prune", "cleanup"} <= set(tasks)


def test_every_task_has_a_summary(tasks):
    assert [name for name, task in tasks.items() if not task["doc"]] == []


def test_every_argument_has_a_help_line(tasks):
    assert {name: task["undocumented"] for name, task in tasks.items()
            if task["undocumented"]} == {}
