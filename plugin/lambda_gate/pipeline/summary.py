"""A deploy's last line: what happened in AWS, and where to read more.

One line, whatever the outcome: the version, what the alias did (moved, created, stayed
where it was), how many smoke tests passed, the JUnit XML and the deploy record. A
failure's own message is printed once, by the task layer, after this line; the line
says where the deploy stopped and what that left behind, not the error again.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Error, LostRace, OutOfOrder, StaleLock
from ..records import DeployRecord
from ..settings import Settings

#: Outcomes that end a deploy with exit code 0.
SUCCESSFUL = ("promoted", "unchanged")


def failure_outcome(error: Error) -> str:
    """The record's outcome for a deploy that ``error`` stopped: a race another deploy
    won (for terraform's state lock or for the alias), a lock left by a run that is
    gone, or a failure."""
    if isinstance(error, StaleLock):
        return "stale-lock"
    if isinstance(error, OutOfOrder):
        return "out-of-order"
    if isinstance(error, LostRace):
        return "lost-race"
    return "failed"


def lost_race_head(record: DeployRecord) -> str:
    """What a deploy that lost a race did: before the apply it published nothing."""
    if record.version is None:
        return "lost the race for terraform's state lock: nothing published"
    return (f"lost the race for {record.alias}: another deploy moved it first; version "
            f"{record.version} is left published, unaliased")


def shown(path: Path, root: Path) -> str:
    """``path`` relative to the repository when it lies inside it: shorter to read."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def junit_path(settings: Settings, record: DeployRecord) -> Path | None:
    """The smoke run's JUnit XML, when the deploy got as far as running the tests."""
    if record.version is None:
        return None
    path = settings.reports_dir / f"smoke-{record.version}.xml"
    return path if path.exists() else None


def _tests(record: DeployRecord) -> str:
    text = f"{record.tests_passed} test{'s' if record.tests_passed != 1 else ''} passed"
    if record.tests_failed:
        text += f", {record.tests_failed} failed"
    return text


def _stepping_back(record: DeployRecord) -> str:
    before, version = record.alias_before or "", record.version or ""
    if before.isdigit() and version.isdigit() and int(version) < int(before):
        return f"{record.alias} serves version {before}, newer than {version}"
    return f"{record.alias} was rolled back from version {version}"


def _alias_stays(record: DeployRecord) -> str:
    if record.alias_before is not None:
        return f"{record.alias} stays at {record.alias_before}"
    if record.function is not None:
        return f"{record.alias} not created"
    return f"{record.alias} untouched"


def deploy_summary(settings: Settings, record: DeployRecord, record_path: Path | None,
                   failed_step: str | None) -> str:
    """The summary line for ``record``; see the module docstring."""
    root = settings.root
    junit = junit_path(settings, record)
    if record.outcome == "unchanged":
        head = f"{record.alias} already at version {record.version}: nothing to deploy"
        return head + (f" (record {shown(record_path, root)})" if record_path else "")
    if record.outcome == "promoted":
        if record.alias_before is None:
            head = f"created {record.alias} -> {record.alias_after}"
        else:
            head = f"promoted {record.alias}: {record.alias_before} -> {record.alias_after}"
        parts = [head, f"version {record.version}", _tests(record)]
    elif record.outcome == "approval-required":
        parts = [f"waiting for approval: version {record.version} passed its smoke tests",
                 _alias_stays(record), _tests(record)]
    elif record.outcome == "interrupted":
        where = f" in {failed_step}" if failed_step else ""
        if record.alias_after is not None and record.alias_after != record.alias_before:
            moved = f"{record.alias} moved: {record.alias_before} -> {record.alias_after}"
        elif record.alias_after is not None:
            moved = f"{record.alias} at {record.alias_after}"
        else:
            moved = f"{record.alias} untouched"
        parts = [f"interrupted{where}", moved]
    elif record.outcome == "lost-race":
        parts = [lost_race_head(record)]
        if record.version is None:
            parts.append(_alias_stays(record))
    elif record.outcome == "out-of-order":
        parts = [f"not promoted: {_stepping_back(record)}", _alias_stays(record), _tests(record)]
    elif record.outcome == "stale-lock":
        parts = ["terraform's state lock is held by a run that is gone: nothing published",
                 _alias_stays(record)]
    elif record.outcome == "gate-closed":
        parts = [f"gate closed: version {record.version} not promoted", _alias_stays(record),
                 _tests(record)]
    else:
        where = f"in {failed_step}" if failed_step else "before the build"
        parts = [f"deploy failed {where}: {_alias_stays(record)}"]
        if record.version is not None:
            parts.append(f"version {record.version} is left published, unaliased")
    if junit is not None:
        parts.append(f"JUnit {shown(junit, root)}")
    if record_path is not None:
        parts.append(f"record {shown(record_path, root)}")
    return "; ".join(parts)
