"""terraform's record of a state lock: who took it, when, for what.

terraform writes the same fields wherever the lock lives (``ID``, ``Operation``,
``Who`` as ``user@host``, ``Version``, ``Created``, ``Path``): as JSON in the lock's
record, and as a ``Lock Info:`` block in its error when it did not get the lock. Both
are read here into one :class:`LockInfo`, which says who holds the lock in the words a
person needs; :mod:`.lock_backends` finds the record, :mod:`.state_lock` judges it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ..children import format_seconds

#: What terraform prints when taking the lock takes longer than a moment: another run
#: holds it, and terraform waits (up to ``-lock-timeout``).
WAIT_LINE = "Acquiring state lock. This may take a few moments..."
#: The headline of terraform's error when it did not get the lock.
LOCK_ERROR = "Error acquiring the state lock"


@dataclass(frozen=True)
class LockInfo:
    """terraform's record of one lock; ``pid`` only where the OS tells (local state)."""

    id: str
    operation: str = ""
    who: str = ""
    created: datetime | None = None
    path: str = ""
    version: str = ""
    pid: int | None = None

    @property
    def user(self) -> str:
        return self.who.rpartition("@")[0]

    @property
    def host(self) -> str:
        return self.who.rpartition("@")[2]

    def age(self, now: datetime) -> float | None:
        return None if self.created is None else (now - self.created).total_seconds()

    def describe(self, now: datetime) -> str:
        """``held by root@ci-7 since 06:12:01 UTC (3m ago) for terraform apply (lock ID
        ...)``: who, since when, doing what."""
        text = f"held by {self.who or 'an unknown holder'}"
        if self.pid is not None:
            text += f" (pid {self.pid})"
        if self.created is not None:
            age = max(0.0, self.age(now) or 0.0)
            day = "" if self.created.date() == now.date() else f"{self.created:%Y-%m-%d} "
            text += f" since {day}{self.created:%H:%M:%S} UTC ({format_seconds(age)} ago)"
        if self.operation:
            text += f" for {operation_name(self.operation)}"
        return text + f" (lock ID {self.id})"


def operation_name(operation: str) -> str:
    """``OperationTypeApply`` as ``terraform apply``; other names as terraform wrote them."""
    if operation.startswith("OperationType") and len(operation) > len("OperationType"):
        return f"terraform {operation[len('OperationType'):].lower()}"
    return operation


_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?")


def parse_time(text: str) -> datetime | None:
    """terraform's timestamps, as UTC: RFC 3339 with nanoseconds in the JSON
    (``2025-01-01T06:12:01.245252374Z``), Go's default form in its error
    (``2025-01-01 06:12:01.245252374 +0000 UTC``). Both are written in UTC."""
    match = _TIME.match(text.strip())
    if match is None:
        return None
    day, clock, fraction = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    try:
        return datetime.strptime(f"{day} {clock}.{micro}", "%Y-%m-%d %H:%M:%S.%f").replace(
            tzinfo=timezone.utc)
    except ValueError:
        return None


def parse_lock_info(text: str | bytes, *, pid: int | None = None) -> LockInfo | None:
    """terraform's JSON lock info, or ``None`` when ``text`` is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("ID"), str):
        return None

    def value(key: str) -> str:
        found = data.get(key)
        return found if isinstance(found, str) else ""

    return LockInfo(id=data["ID"], operation=value("Operation"), who=value("Who"),
                    created=parse_time(value("Created")), path=value("Path"),
                    version=value("Version"), pid=pid)


_ERROR_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created):\s*(.*?)\s*$")


def lock_info_from_error(output: str) -> LockInfo | None:
    """The ``Lock Info:`` block of terraform's "Error acquiring the state lock"."""
    found: dict[str, str] = {}
    inside = False
    for raw in output.splitlines():
        line = raw.lstrip("│╷╵ ").rstrip()
        if line.strip() == "Lock Info:":
            inside = True
            continue
        if inside:
            match = _ERROR_FIELD.match(line)
            if match is None:
                if found:
                    break
                continue
            found.setdefault(match.group(1), match.group(2))
    if not found.get("ID"):
        return None
    return LockInfo(id=found["ID"], operation=found.get("Operation", ""),
                    who=found.get("Who", ""), created=parse_time(found.get("Created", "")),
                    path=found.get("Path", ""), version=found.get("Version", ""))
