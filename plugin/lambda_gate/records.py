"""Deploy records: one JSON file per deploy, the pipeline's memory.

A record says what was deployed, what the smoke tests found and what happened to the
alias. ``promote`` reads them to refuse a version no passing deploy vouches for, and
CI keeps them as artifacts (they are also copied to the reports directory).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from . import atomic

#: How many of a dirty tree's paths a record lists.
DIRTY_FILES_KEPT = 50

#: Outcomes of a record whose alias moved to ``alias_after``.
MOVED = ("promoted", "rolled-back")


@dataclass
class DeployRecord:
    """Everything one deploy learned, written whatever its outcome."""

    environment: str
    alias: str | None = None
    function: str | None = None
    version: str | None = None
    qualified_arn: str | None = None
    code_sha256: str | None = None
    artifact_sha256: str | None = None
    alias_before: str | None = None
    alias_after: str | None = None
    tests_passed: int = 0
    tests_failed: int = 0
    tests_skipped: int = 0
    failed_tests: list[str] = field(default_factory=list)
    smoke_passed: bool = False
    durations: dict[str, float] = field(default_factory=dict)
    git_commit: str | None = None
    git_branch: str | None = None
    #: Whether the working tree had uncommitted changes (None: not a git checkout), and
    #: which paths (the first :data:`DIRTY_FILES_KEPT`).
    git_dirty: bool | None = None
    git_dirty_files: list[str] = field(default_factory=list)
    outcome: str = "started"
    reason: str = ""
    started_at: float = field(default_factory=time.time)
    #: A service of several functions writes one record per function, all under one
    #: deploy id, each naming its function's key (``lambda_gate.functions``).
    deploy_id: str | None = None
    function_key: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def write(record: DeployRecord, directory: Path) -> Path:
    """Write atomically to ``directory``; the name sorts by time."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(record.started_at))
    key = f"{record.function_key}-" if record.function_key else ""
    name = f"{stamp}-{key}{record.version or 'none'}-{record.outcome}.json"
    path = directory / name
    atomic.write_text(path, record.to_json())
    return path


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: What each field's JSON value must be, by its annotation. A record is evidence that
#: promote trusts, so a value of the wrong type (``"smoke_passed": "no"``, which Python
#: would take as true) makes the whole record count for nothing.
_CHECKS = {
    "str": lambda v: isinstance(v, str),
    "str | None": _optional_str,
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": _number,
    "bool": lambda v: isinstance(v, bool),
    "bool | None": lambda v: v is None or isinstance(v, bool),
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "dict[str, float]": lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and _number(i) for k, i in v.items()),
}


def from_json(data: Any) -> DeployRecord | None:
    """The record ``data`` describes, or ``None`` when it is not a well-formed one.

    Keys this version does not know are left out (a newer lambda-gate may add some);
    a known key with a value of the wrong type, or a missing ``environment``, makes the
    record malformed, and a malformed record is no record.
    """
    if not isinstance(data, dict) or not isinstance(data.get("environment"), str):
        return None
    values = {}
    for f in fields(DeployRecord):
        if f.name not in data:
            continue
        check = _CHECKS.get(str(f.type))
        if check is None or not check(data[f.name]):
            return None
        values[f.name] = data[f.name]
    version = values.get("version")
    if version is not None and not (version.isascii() and version.isdigit()):
        return None
    return DeployRecord(**values)


def load_all(directory: Path) -> list[DeployRecord]:
    """Every well-formed record in ``directory``, oldest first; others are passed over."""
    records: list[DeployRecord] = []
    if not directory.is_dir():
        return records
    for path in sorted(directory.glob("*.json")):
        try:
            record = from_json(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
        if record is not None:
            records.append(record)
    return records


def passing_record(directory: Path, function: str, version: str) -> DeployRecord | None:
    """The newest record showing ``function:version`` passed its smoke tests."""
    for record in reversed(load_all(directory)):
        if (record.function == function and record.version == version
                and record.smoke_passed):
            return record
    return None
