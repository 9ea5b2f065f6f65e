"""The invoke collection: lambda-gate's command line.

A repository uses it with a three-line ``tasks.py``::

    from lambda_gate.tasks import ns
    ns.configure({"lambda_gate": {"function": {"source_dir": "src"}}})

Each task reads its settings from ``c.config.lambda_gate`` (the collection's defaults,
``invoke.yaml``, ``INVOKE_LAMBDA_GATE_...`` environment variables) and takes an argument
only where a person chooses per run. Tasks are thin, one module per topic; the work
happens in the library.
"""

from __future__ import annotations

import copy

from invoke import Collection

from .. import config
from . import lifecycle, local, lock, scaffold, steps

ns = Collection()
for module in (steps, lock, local, lifecycle, scaffold):
    for name in module.__all__:
        ns.add_task(getattr(module, name))
ns.configure({"lambda_gate": copy.deepcopy(config.DEFAULTS)})
