"""Promotion order: an alias never steps back to an older version by accident.

Two pipelines that race, or an approval that comes late, can ask to promote a version
after a newer one already went live; a CI rerun can ask to promote the very version a
person just rolled back from. Either would silently undo a later decision, so both are
refused unless asked for explicitly (``invoke rollback``, ``--allow-older``,
``--force``). The refusal names both versions and when each was published (Lambda's
own timestamps) and promoted (the deploy records, where this machine can read them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import OutOfOrder
from .alias import AliasState

#: When the alias last moved to each version (seconds since the epoch), promoted or
#: rolled back to, from the deploy records; versions without a record are absent.
PromotedAt = Mapping[str, float]


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


#: Lambda's "2026-12-03T06:40:12.000+0000"; a fraction of any length, or "Z", read too.
_LAST_MODIFIED = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(?P<zone>Z|[+-]\d{4})$")


def published_at(client, function: str, version: str) -> str | None:
    """Lambda's LastModified of ``version``: when it was published (versions are frozen)."""
    try:
        found = client.get_function_configuration(FunctionName=function, Qualifier=version)
    except (ClientError, BotoCoreError):
        return None
    text = found.get("LastModified") or ""
    stamp = _LAST_MODIFIED.match(text)
    if stamp is None:
        return text or None
    zone = "+0000" if stamp["zone"] == "Z" else stamp["zone"]
    return _when(datetime.strptime(stamp["time"] + zone, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def _story(client, function: str, alias: str, version: str, promoted: PromotedAt) -> str:
    published = published_at(client, function, version)
    text = f"version {version} (published {published or 'at an unknown time'}"
    if version in promoted:
        text += f"; {alias} last moved to it at {_when(promoted[version])})"
    else:
        text += f"; no record here of {alias} moving to it)"
    return text


def check_order(client, function: str, current: AliasState | None, version: str, *,
                promoted: PromotedAt | Callable[[], PromotedAt], allow_older: bool = False,
                allow_rolled_back: bool = False, how_to_force: str = "--force") -> None:
    """Raise :class:`OutOfOrder` when moving ``current`` to ``version`` steps back.

    ``promoted`` may be a callable, so that the records are read only for a refusal.
    ``how_to_force`` is the flag that re-promotes a rolled-back version in the command
    the caller runs.
    """
    if current is None or current.version == version:
        return
    alias = current.name
    if version in current.rolled_back and not allow_rolled_back:
        times = promoted() if callable(promoted) else promoted
        raise OutOfOrder(
            f"not promoting version {version} to {alias}: {alias} was rolled back from it "
            f"(`invoke rollback`) and serves "
            f"{_story(client, function, alias, current.version, times)}; "
            f"{_story(client, function, alias, version, times)} is what this run "
            f"tested. A rollback sticks until a new version is deployed: {alias} stays at "
            f"{current.version}. Deploy a fix, or pass {how_to_force} to promote version "
            f"{version} again.")
    if int(version) < int(current.version) and not allow_older:
        times = promoted() if callable(promoted) else promoted
        raise OutOfOrder(
            f"not moving {alias} back to an older version: it serves "
            f"{_story(client, function, alias, current.version, times)}, newer than "
            f"{_story(client, function, alias, version, times)}. Another deploy promoted "
            f"a newer version after this one was tested; {alias} stays at "
            f"{current.version}. To go back on purpose, run `invoke rollback --to "
            f"{version}` (or pass --allow-older).")
