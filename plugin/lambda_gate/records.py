"""Deploy records: one JSON file per deploy, the pipeline's memory.

A record says what was deployed, what the smoke tests found and what happened to the
alias. ``promote`` reads them to refuse a version no passing deploy vouches for, and
CI keeps them as artifacts (they are also copied to the reports directory).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import atomic


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
    outcome: str = "started"
    reason: str = ""
    started_at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def write(record: DeployRecord, directory: Path) -> Path:
    """Write atomically to ``directory``; the name sorts by time."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(record.started_at))
    name = f"{stamp}-{record.version or 'none'}-{record.outcome}.json"
    path = directory / name
    atomic.write_text(path, record.to_json())
    return path


def load_all(directory: Path) -> list[DeployRecord]:
    """Every record in ``directory``, oldest first; unreadable files are passed over."""
    records = []
    if not directory.is_dir():
        return records
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            records.append(DeployRecord(**data))
        except (OSError, ValueError, TypeError):
            continue
    return records


def passing_record(directory: Path, function: str, version: str) -> DeployRecord | None:
    """The newest record showing ``function:version`` passed its smoke tests."""
    for record in reversed(load_all(directory)):
        if (record.function == function and record.version == version
                and record.smoke_passed):
            return record
    return None
