"""Status: where each alias points, what it can roll back to, what the versions cost.

``invoke status --json`` prints one JSON object, stable for CI to read. Schema 1::

    {
      "schema": 1,
      "function": "api-backend",
      "environment": "local",
      "aliases": [                      # sorted by name
        {
          "name": "main",
          "version": "7",               # the primary version
          "weights": {"8": 0.1},        # a canary's share per extra version, 0 to 1;
                                        # {} when the alias is wholly on "version"
          "code_sha256": "...",         # of the primary version
          "last_modified": "...",       # of the primary version, as Lambda reports it
          "history": ["6", "5"],        # recorded earlier versions, newest first
          "rolled_back": ["9"]          # versions a rollback left, newest first
        }
      ],
      "versions": {
        "count": 12,                    # published versions, $LATEST not counted
        "code_size": 123456             # bytes those versions hold
      },
      "account": {                      # null when GetAccountSettings is not allowed
        "code_storage_used": 987654,    # bytes, the whole account in this region
        "code_storage_limit": 80530636800
      }
    }

A new key may be added to schema 1; a key is never removed or changes meaning without
the schema number changing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from . import alias as aliases
from .prune import VersionInfo, format_bytes, list_aliases, list_versions

SCHEMA = 1


@dataclass(frozen=True)
class AliasStatus:
    name: str
    version: str
    weights: Mapping[str, float]
    code_sha256: str | None
    last_modified: str | None
    history: tuple[str, ...]
    rolled_back: tuple[str, ...] = ()


@dataclass(frozen=True)
class Status:
    function: str
    environment: str
    aliases: tuple[AliasStatus, ...]
    version_count: int
    code_size: int
    account_used: int | None
    account_limit: int | None

    def as_json(self) -> dict[str, Any]:
        """The documented schema-1 object (see the module docstring)."""
        account = None
        if self.account_used is not None:
            account = {"code_storage_used": self.account_used,
                       "code_storage_limit": self.account_limit}
        return {
            "schema": SCHEMA,
            "function": self.function,
            "environment": self.environment,
            "aliases": [{
                "name": a.name,
                "version": a.version,
                "weights": dict(a.weights),
                "code_sha256": a.code_sha256,
                "last_modified": a.last_modified,
                "history": list(a.history),
                "rolled_back": list(a.rolled_back),
            } for a in self.aliases],
            "versions": {"count": self.version_count, "code_size": self.code_size},
            "account": account,
        }

    def as_text(self) -> str:
        lines = [f"{self.function} ({self.environment})"]
        if not self.aliases:
            lines.append("  no aliases")
        for a in self.aliases:
            where = f"version {a.version}"
            if a.weights:
                where += "".join(f", {round(w * 100)}% to {v}" for v, w in a.weights.items())
            history = ",".join(a.history) or "none"
            line = (f"  {a.name}: {where}  sha256 {a.code_sha256 or '?'}  modified "
                    f"{a.last_modified or '?'}  history {history}")
            if a.rolled_back:
                line += f"  rolled back from {','.join(a.rolled_back)}"
            lines.append(line)
        lines.append(f"  {self.version_count} published version(s) holding "
                     f"{format_bytes(self.code_size)}")
        if self.account_used is not None:
            limit = format_bytes(self.account_limit) if self.account_limit else "?"
            lines.append(f"  account code storage: {format_bytes(self.account_used)} of "
                         f"{limit}")
        return "\n".join(lines)


def _account(client) -> tuple[int | None, int | None]:
    # Needs lambda:GetAccountSettings, which a deploy role may lack: status is still
    # useful without it.
    try:
        found = client.get_account_settings()
    except ClientError:
        return None, None
    used = found.get("AccountUsage", {}).get("TotalCodeSize")
    limit = found.get("AccountLimit", {}).get("TotalCodeSize")
    return (int(used) if used is not None else None,
            int(limit) if limit is not None else None)


def gather(client, function: str, environment: str) -> Status:
    """Read the function's aliases, versions and the account's code storage."""
    versions = list_versions(client, function)
    by_number: dict[str, VersionInfo] = {v.version: v for v in versions}
    published = [v for v in versions if v.version != "$LATEST"]
    rows = []
    for found in sorted(list_aliases(client, function), key=lambda a: a["Name"]):
        state = aliases.state_from(found["Name"], found)
        info = by_number.get(state.version)
        rows.append(AliasStatus(
            name=state.name, version=state.version, weights=dict(state.weights),
            code_sha256=info.code_sha256 if info else None,
            last_modified=info.last_modified if info else None,
            history=state.history, rolled_back=state.rolled_back,
        ))
    used, limit = _account(client)
    return Status(function=function, environment=environment, aliases=tuple(rows),
                  version_count=len(published),
                  code_size=sum(v.code_size for v in published),
                  account_used=used, account_limit=limit)
