"""Freeing terraform's state lock that a killed run left behind (``invoke unlock``).

A run killed while terraform held the lock of a remote state (a CI job cancelled hard,
a machine lost) leaves the lock in place, and every later run waits for it in vain.
terraform's own remedy is ``terraform force-unlock ID``, run where the backend is
initialised; this runs it with the environment's data directory, backend settings and
credentials, after showing whose lock it is and asking. A local state's lock is the
operating system's and ends with its process, so there is never one to free.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from ..aws import AwsTarget
from ..errors import ConfigError, Error
from ..report import Reporter
from ..settings import Settings
from .apply import terraform_for
from .lock_backends import LockUnreadable, local_lock_holder, read_lock
from .state_lock import stale_reason, terraform_processes


def unlock_state(settings: Settings, target: AwsTarget | None, reporter: Reporter, *,
                 yes: bool, confirm: Callable[[str], bool] | None) -> str:
    """Free the environment's state lock after a yes (``yes``, or ``confirm``); the
    summary line. No lock is no error: there is nothing to do.

    ``target`` is only needed for a remote state (``None`` for a local one).
    """
    env = settings.environment.name
    if settings.environment.backend_config is None:
        return _local_state(settings)
    assert target is not None
    tf = terraform_for(settings, target, reporter, settings.build.artifact)
    tf.ensure_init()
    watch = tf.lock_watch
    assert watch is not None
    place = watch.place()
    if place is None:
        raise ConfigError(
            f"the backend of environment {env!r} ({settings.environment.backend_config}) "
            "keeps no state lock lambda-gate can read: an S3 backend needs use_lockfile = "
            "true or a dynamodb_table. Nothing was changed.")
    try:
        info = read_lock(place, tf.environment())
    except LockUnreadable as exc:
        raise Error(f"cannot read terraform's state lock at {place.where}: {exc}. Nothing "
                    "was changed.") from None
    if info is None:
        return f"terraform's state of environment {env!r} is not locked ({place.where}): " \
               "nothing to unlock"
    now = datetime.now(timezone.utc)
    reporter.detail(f"terraform's state lock at {place.where}: {info.describe(now)}")
    gone = stale_reason(info, place, now=now, stale_after=settings.terraform.stale_lock_after,
                        running=lambda: terraform_processes(place))
    if gone is not None:
        reporter.detail(f"its run is gone: {gone}")
    else:
        reporter.warn("its run may still be going: freeing the lock now lets two runs write "
                      "the state at once. Free it only if that run was stopped.")
    question = f"free terraform's state lock {info.id} of environment {env}? [y/N] "
    if not yes and not (confirm is not None and confirm(question)):
        raise ConfigError(f"the lock was not freed: confirm on a terminal, or pass --yes "
                          f"(`invoke unlock --env {env} --yes`). Nothing was changed.")
    with reporter.step("unlock"):
        tf.force_unlock(info.id)
    try:
        left = read_lock(place, tf.environment())
    except LockUnreadable:
        left = None
    if left is not None and left.id == info.id:
        raise Error(f"terraform force-unlock ran, but {place.where} still holds lock "
                    f"{info.id}; see terraform's output in {tf.log_dir}.")
    return f"unlocked terraform's state of environment {env!r}: freed lock {info.id} " \
           f"({info.who or 'unknown holder'})"


def _local_state(settings: Settings) -> str:
    state = settings.state_path
    pid = local_lock_holder(state)
    if pid:
        raise Error(
            f"terraform's local state {state} is locked by process {pid}, which is running: "
            "the operating system releases a local state's lock when that process ends, so "
            f"there is nothing to free. Wait for it, or stop it (`kill {pid}`). Nothing was "
            "changed.")
    held = "is not locked" if pid is None else "keeps its lock in the operating system"
    return (f"terraform's local state of environment {settings.environment.name!r} "
            f"({state}) {held}: nothing to unlock (a local state's lock ends with the "
            "process that took it)")
