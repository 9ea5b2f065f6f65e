"""Promoting a service's functions as one unit: every alias moves, or none stays moved.

The aliases of the changed functions move one after the other, each guarded by the
RevisionId read before the smoke tests, as a single function's alias is. When one move
fails (another deploy moved that alias meanwhile, or Lambda refused), the aliases this
promotion already moved are moved back to exactly what they were (version, history,
routing), each guarded by the RevisionId our own move left, so a deploy that raced us
is never undone. :class:`UnitNotPromoted` then says where each alias stands.

A canary (:func:`run_unit_canary`) shifts every function's alias by the same steps
and runs the checks after each; a failed check on any function sends all of them back
to their old versions, and when every step passed they move wholly, as a unit. A
function whose alias does not exist yet has no old version to keep traffic on, so the
canary is refused (:func:`require_old_versions`) unless ``create_alias`` says to
create that alias, wholly on its new version, with the final promotion.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from botocore.exceptions import ClientError

from .. import records
from ..errors import ConfigError, Error, LambdaApiError
from . import alias as aliases
from .alias import AliasChange, AliasState
from .canary import CanaryRolledBack, Check, parse_weights, validate_interval


@dataclass(frozen=True)
class Move:
    """One function's alias move: to ``version``, from ``before`` as last read."""

    key: str
    function: str
    version: str
    before: AliasState | None


class UnitNotPromoted(Error):
    """A move failed; the moves before it were undone. ``standing``: key -> words."""

    def __init__(self, message: str, *, exit_code: int, standing: dict[str, str]) -> None:
        super().__init__(message, exit_code=exit_code)
        self.standing = standing


def _put_back(client, alias: str, move: Move) -> str:
    """Undo our move of ``move``'s alias; what it now points at, in words."""
    current = aliases.get_alias(client, move.function, alias)
    if current is None or current.version != move.version or current.weights:
        return (f"{alias} -> {aliases.describe(current)} (moved by someone else after "
                "this promotion: left as it is)")
    try:
        if move.before is None:
            client.delete_alias(FunctionName=move.function, Name=alias)
            return f"{alias} removed again (this promotion had created it)"
        before = move.before
        aliases._update(client, move.function, current, "was moved back",
                        FunctionVersion=before.version, Description=before.description,
                        RoutingConfig={"AdditionalVersionWeights": dict(before.weights)})
    except (LambdaApiError, ClientError) as exc:
        message = getattr(exc, "message", str(exc))
        return (f"{alias} -> version {move.version}: moving it back failed ({message}); "
                f"run `invoke rollback --alias {alias}`")
    return f"{alias} -> {aliases.describe(before)} (moved to {move.version}, then back)"


def _promote(client, alias: str, move: Move) -> AliasChange:
    return aliases.promote(client, move.function, alias, move.version, expected=move.before)


def _roll_back(client, alias: str, move: Move) -> AliasChange:
    return aliases.rollback(client, move.function, alias, to=move.version)


def promote_unit(client, alias: str, moves: Sequence[Move], *,
                 log: Callable[[str], None] = print, rollback: bool = False
                 ) -> list[AliasChange]:
    """Move ``alias`` of every function in ``moves``, in order; all or none.

    Raises :class:`UnitNotPromoted` (exit code of the failed move: 4 for a race) after
    moving back what was moved. With ``rollback`` each move is a rollback to its
    version (the version rolled away from leaves the alias's history).
    """
    done: list[tuple[Move, AliasChange]] = []
    step = _roll_back if rollback else _promote
    for move in moves:
        try:
            change = step(client, alias, move)
        except (LambdaApiError, ConfigError) as exc:
            live = aliases.get_alias(client, move.function, alias)
            standing = {move.key: f"{alias} -> {aliases.describe(live)} (not moved by "
                                  "this promotion)"}
            for earlier, _ in reversed(done):
                standing[earlier.key] = _put_back(client, alias, earlier)
                log(f"[{earlier.key}] {standing[earlier.key]}")
            for later in moves[len(done) + 1:]:
                standing[later.key] = (f"{alias} -> {aliases.describe(later.before)} "
                                       "(untouched)")
            where = "; ".join(f"{key}: {text}" for key, text in sorted(standing.items()))
            doing = "rolled back" if rollback else "promoted"
            raise UnitNotPromoted(
                f"not {doing} as a unit: moving {alias} of {move.key} ({move.function}) "
                f"failed: {exc.message}\nWhere each alias stands: {where}.",
                exit_code=exc.exit_code, standing=standing) from None
        log(f"[{move.key}] " + (f"rolled back {alias}: {change.before} -> {change.after}"
                                if rollback else change.summary()))
        done.append((move, change))
    return [change for _, change in done]


def require_old_versions(alias: str, moves: Sequence[Move], *,
                         create_alias: bool = False) -> None:
    """A :class:`ConfigError` when a canary would create ``alias`` on some function.

    Such a function has no old version to keep traffic on: its alias would take all of
    its traffic at once. The promote task calls this before it asks for approval.
    """
    new = [m for m in moves if m.before is None]
    if not new or create_alias:
        return
    which = ", ".join(f"{m.key} ({m.function})" for m in new)
    raise ConfigError(
        f"alias {alias} does not exist yet on {which}, so a canary has no old version to "
        "keep its traffic on. Promote without --canary first (`invoke promote`), or pass "
        f"--create-alias to create {alias} there pointing wholly at the new version "
        "when the canary of the other functions has passed. Nothing was changed."
    )


def run_unit_canary(client, alias: str, moves: Sequence[Move], weights: Sequence[int], *,
                    interval: float, checks: Sequence[Check] = (),
                    wait: Callable[[float], None] = time.sleep,
                    log: Callable[[str], None] = print,
                    create_alias: bool = False) -> list[AliasChange]:
    """Shift every alias in ``moves`` through ``weights`` together, then promote them all.

    A function whose alias does not exist yet has no traffic to shift: that is refused
    before anything is written (:func:`require_old_versions`), unless ``create_alias``,
    when it is created by the final promotion. A failed check, or a failed shift, sends
    every shifted alias wholly back to its old version (:class:`CanaryRolledBack`).
    """
    weights = parse_weights(weights)
    interval = validate_interval(interval)
    require_old_versions(alias, moves, create_alias=create_alias)
    states = {m.key: m.before for m in moves}
    shifting = [m for m in moves if m.before is not None and m.before.version != m.version]
    for m in moves:
        if m.before is None:
            log(f"[{m.key}] {alias} does not exist yet, so there is no traffic to shift: it "
                f"is created pointing wholly at version {m.version} (--create-alias) by "
                "the final promotion")

    def back(reason: str, at: int) -> CanaryRolledBack:
        for m in shifting:
            state = states[m.key]
            if state is not None and state.weights:
                states[m.key] = aliases.shift_weight(client, m.function, state, m.version, 0)
        olds = ", ".join(f"{m.key} on {m.before.version}" for m in shifting if m.before)
        return CanaryRolledBack(f"canary of the unit on {alias} stopped at {at}%: {reason}. "
                                f"All traffic is back on the old versions ({olds}); the new "
                                "versions are left published.")

    for check in checks:
        reason = check()
        if reason is not None:
            raise CanaryRolledBack(f"canary of the unit on {alias} not started: {reason}. "
                                   "Nothing was changed.")
    for weight in weights if shifting else ():  # only new aliases: no step to wait on
        try:
            for m in shifting:
                state = states[m.key]
                assert state is not None
                states[m.key] = aliases.shift_weight(client, m.function, state, m.version,
                                                     weight / 100)
                log(f"[{m.key}] {alias}: {weight}% of traffic to version {m.version}")
        except LambdaApiError as exc:
            raise back(f"shifting traffic failed ({exc.message})", weight) from None
        if interval:
            log(f"waiting {interval:g}s before checking")
        wait(interval)
        for check in checks:
            reason = check()
            if reason is not None:
                raise back(reason, weight)
    final = [Move(m.key, m.function, m.version, states[m.key]) for m in moves]
    return promote_unit(client, alias, final, log=log)


def previous_set(history: Sequence[records.DeployRecord], alias: str,
                 live: Mapping[str, str | None]) -> tuple[str, dict[str, str]]:
    """The deploy a unit rollback undoes, and each key's version before it.

    ``history``: the environment's records, oldest first; ``live``: where ``alias``
    of each function points now, by key. The deploy undone is the newest one that
    promoted ``alias`` and whose versions are all still live, so a second rollback
    undoes the deploy before it. Raises :class:`ConfigError` when there is none.
    """
    deploys: dict[str, list[records.DeployRecord]] = {}
    for rec in history:
        if rec.deploy_id and rec.function_key and rec.alias == alias:
            deploys.setdefault(rec.deploy_id, []).append(rec)
    newest_first = sorted(deploys.items(), key=lambda item: max(r.started_at for r in item[1]),
                          reverse=True)
    for deploy_id, recs in newest_first:
        moved = [r for r in recs if r.outcome == "promoted" and r.function_key in live]
        if not moved or any(live[r.function_key] != r.alias_after for r in moved):
            continue
        created = [r.function_key for r in moved if r.alias_before is None]
        if created:
            raise ConfigError(
                f"the last unit deploy to {alias} created it on {', '.join(created)}: "
                "there is no earlier version to roll back to. Pass --function KEY --to N "
                "to move one function's alias, or `invoke cleanup` to delete it."
            )
        return deploy_id, {r.function_key: str(r.alias_before) for r in moved}
    raise ConfigError(
        f"no deploy record of this environment promoted {alias} to the versions it "
        "serves now, so there is no previous set to go back to: roll one function back "
        "with --function KEY (its alias's own history), or pass --to N with it."
    )
