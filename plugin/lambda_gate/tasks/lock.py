"""terraform's state lock as a task: ``invoke unlock`` frees one a killed run left."""

from __future__ import annotations

from invoke import task

from ..pipeline.steps import terminal_confirm
from ..pipeline.targets import aws_target
from ..publish.unlock import unlock_state
from ..report import Reporter
from ._common import exits, settings_from

__all__ = ["unlock"]


@task(help={
    "env": "Environment whose terraform state to unlock (default: lambda_gate.environment).",
    "yes": "Free the lock without asking (CI, or no terminal).",
})
@exits
def unlock(c, env=None, yes=False):
    """Free terraform's state lock that a killed run left behind (terraform force-unlock).

    Shows who took the lock, when and for what, and whether that run looks gone; asks
    before freeing it (or --yes). Runs `terraform force-unlock -force ID` with the
    environment's data directory and backend. Without a lock, says so and exits 0.
    """
    settings = settings_from(c, env)
    reporter = Reporter()
    target = (None if settings.environment.backend_config is None
              else aws_target(settings, reporter, start_local=False))
    summary = unlock_state(settings, target, reporter, yes=yes, confirm=terminal_confirm)
    reporter.summary(summary, ok=True)
