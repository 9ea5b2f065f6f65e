"""Canary promotion: move an alias's traffic to a new version step by step.

``invoke promote --canary 10,50`` keeps the alias's primary on the version it serves
and sends 10%, then 50%, of its traffic to the new one through the alias's
RoutingConfig (``AdditionalVersionWeights``). After each step it waits ``--interval``
seconds and runs the checks: the CloudWatch alarms configured for the alias and,
optionally, the smoke tests against the alias itself. A failed check sends all traffic
back to the old version and stops with a message naming the cause; when every step
passed, the alias moves wholly to the new version with the ordinary, RevisionId-guarded
promotion, so the history rollback reads is kept as always.

The alias's RoutingConfig is the canary's only state, so a canary interrupted half way
is found again by whoever looks next: a rerun of the same promotion resumes after the
weight already reached, and ``invoke rollback`` sends the traffic back to the primary.

An alias that does not exist yet has no old version to keep traffic on, so a canary onto
it is refused before anything is written: creating it would send all of its traffic to
the new version at once. ``--create-alias`` says that is meant, and creates it so.

Alarms (``lambda_gate.aliases.alarms``) are a comma-separated string. Each entry is an
alarm name, or a name prefix when it ends with ``*``; ``{alias}`` and ``{function}`` in
an entry are replaced by the alias and function names, so one setting serves every
branch (``api-{alias}-errors, api-latency-*``). An entry that matches no alarm is an
error before anything moves: a mistyped name must not silently disable the guard.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConfigError, GateClosed, LambdaApiError
from . import alias as aliases
from .alias import AliasChange, AliasState

#: A check runs after each step: it returns why the canary must stop, or None.
Check = Callable[[], "str | None"]


class CanaryRolledBack(GateClosed):
    """A check failed during a canary; the alias is wholly back on its old version."""


def parse_weights(text: str | Sequence[int]) -> tuple[int, ...]:
    """``"10,50"`` as ``(10, 50)``: whole percentages, each 1 to 99, increasing."""
    if isinstance(text, str):
        parts = [p.strip() for p in text.split(",")] if text.strip() else []
    else:
        parts = list(text)
    weights: list[int] = []
    for part in parts:
        try:
            weight = int(str(part))
        except ValueError:
            raise ConfigError(f"--canary {text!r}: {part!r} is not a whole percentage; pass "
                              "increasing steps from 1 to 99, such as 10,50.") from None
        if not 1 <= weight <= 99:
            raise ConfigError(f"--canary {text!r}: {weight} is outside 1 to 99; each step is "
                              "the percentage of traffic sent to the new version before it "
                              "gets all of it (100 is the final promotion itself).")
        if weights and weight <= weights[-1]:
            raise ConfigError(f"--canary {text!r}: steps must increase ({weights[-1]} then "
                              f"{weight}); pass them in the order to apply, such as 10,50.")
        weights.append(weight)
    if not weights:
        raise ConfigError("--canary is empty: pass increasing steps from 1 to 99, such as "
                          "10,50.")
    return tuple(weights)


def validate_interval(interval: object) -> float:
    try:
        seconds = float(str(interval))
    except ValueError:
        raise ConfigError(f"--interval {interval!r} is not a number of seconds.") from None
    if seconds < 0:
        raise ConfigError(f"--interval {seconds:g} is negative: pass seconds to wait between "
                          "steps, 0 or more.")
    return seconds


@dataclass(frozen=True)
class AlarmWatch:
    """The alarms guarding one alias: exact names and name prefixes."""

    names: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.names or self.prefixes)


def parse_alarms(spec: str | Sequence[str] | None, *, alias: str,
                 function: str) -> AlarmWatch:
    """The ``lambda_gate.aliases.alarms`` setting for ``alias`` (see the module doc)."""
    if not spec:
        return AlarmWatch()
    entries = [e.strip() for e in spec.split(",")] if isinstance(spec, str) else list(spec)
    names: list[str] = []
    prefixes: list[str] = []
    for entry in filter(None, entries):
        try:
            entry = entry.format(alias=alias, function=function)
        except (KeyError, IndexError, ValueError):
            raise ConfigError(f"lambda_gate.aliases.alarms entry {entry!r}: only {{alias}} "
                              "and {function} may appear in braces.") from None
        if entry.endswith("*"):
            prefixes.append(entry[:-1])
        else:
            names.append(entry)
    return AlarmWatch(tuple(names), tuple(prefixes))


def firing_alarms(cloudwatch, watch: AlarmWatch) -> tuple[str, ...]:
    """Names of the watched alarms now in ALARM; an error for an entry matching none."""
    states: dict[str, str] = {}
    try:
        paginator = cloudwatch.get_paginator("describe_alarms")
        queries: list[dict] = [{"AlarmNamePrefix": p} for p in watch.prefixes]
        names = list(watch.names)
        queries += [{"AlarmNames": names[i:i + 100]} for i in range(0, len(names), 100)]
        for query in queries:
            found: list[str] = []
            for page in paginator.paginate(**query):
                for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                    states[alarm["AlarmName"]] = alarm["StateValue"]
                    found.append(alarm["AlarmName"])
            if "AlarmNamePrefix" in query and not found:
                raise ConfigError(
                    f"no CloudWatch alarm starts with {query['AlarmNamePrefix']!r} "
                    "(lambda_gate.aliases.alarms): fix the setting, or create the alarms, "
                    "before a canary relies on them."
                )
    except (ClientError, BotoCoreError) as exc:
        raise LambdaApiError(f"cannot read the CloudWatch alarms guarding the canary: "
                             f"{exc}") from None
    missing = [n for n in watch.names if n not in states]
    if missing:
        raise ConfigError(
            f"CloudWatch alarm {missing[0]!r} (lambda_gate.aliases.alarms) does not exist: "
            "fix the setting, or create the alarm, before a canary relies on it."
        )
    return tuple(sorted(name for name, state in states.items() if state == "ALARM"))


def alarm_check(cloudwatch, watch: AlarmWatch) -> Check:
    """A check that fails while any watched alarm is in ALARM."""

    def check() -> str | None:
        firing = firing_alarms(cloudwatch, watch)
        if firing:
            which = ", ".join(firing)
            return f"CloudWatch alarm {which} is in ALARM"
        return None

    return check


def _percent(weight: float) -> int:
    return round(weight * 100)


#: Added to a promotion's summary when a canary created the alias it had no traffic on.
CREATED_NOTE = "(no old version to shift traffic from)"


def no_old_version(alias: str, version: str) -> ConfigError:
    """The refusal of a canary onto an alias that does not exist yet.

    Creating the alias would send all of its traffic to the new version at once, the one
    thing a canary is asked not to do, so it takes an explicit ``--create-alias``.
    """
    return ConfigError(
        f"alias {alias} does not exist yet, so a canary has no old version to keep "
        f"traffic on while version {version} gets part of it. Promote without --canary "
        f"first (`invoke promote --version {version} --alias {alias}`), or pass "
        f"--create-alias to create {alias} pointing wholly at version {version}. Nothing "
        "was changed."
    )


def require_old_version(client, function: str, alias: str, version: str, *,
                        create_alias: bool = False) -> AliasState | None:
    """``alias`` as Lambda has it; :func:`no_old_version` when it does not exist.

    ``create_alias`` lets a missing alias through (as None). The promote task calls this
    before it asks for approval, so nobody approves a canary that cannot start.
    """
    state = aliases.get_alias(client, function, alias)
    if state is None and not create_alias:
        raise no_old_version(alias, version)
    return state


def run_canary(client, function: str, alias: str, version: str, weights: Sequence[int], *,
               interval: float, checks: Sequence[Check] = (),
               before: Sequence[Check] | None = None,
               wait: Callable[[float], None] | None = None,
               log: Callable[[str], None] = print,
               create_alias: bool = False) -> AliasChange:
    """Shift ``alias`` to ``version`` through ``weights`` and then wholly; see module doc.

    An alias that does not exist yet has no old version to keep traffic on: that is a
    :class:`~lambda_gate.errors.ConfigError` before anything is written, unless
    ``create_alias``, which creates it pointing wholly at ``version`` (no steps, no
    checks: there is no traffic to shift or to send back).

    Every write is guarded by the RevisionId of the alias as this canary left it, so a
    deploy that moves the alias meanwhile stops the canary with
    :class:`~lambda_gate.errors.AliasConflict`. ``wait`` is the pause between a step and
    its checks, which also says it is waiting (the reporter's countdown; tests pass a
    function that records instead of sleeping; by default a line, then a sleep). ``before`` are
    the checks run once before the first step (default: ``checks``); a canary does not
    start, or resume, while one fails.
    """
    weights = parse_weights(weights)
    interval = validate_interval(interval)
    if wait is None:
        def wait(seconds: float) -> None:
            if seconds:
                log(f"waiting {seconds:g}s before checking")
            time.sleep(seconds)
    state = require_old_version(client, function, alias, version, create_alias=create_alias)
    if state is None:
        log(f"{alias} does not exist yet, so there is no traffic to shift: creating it "
            f"pointing wholly at version {version} (--create-alias)")
        return aliases.promote(client, function, alias, version, expected=None)
    reached = 0
    if state.weights:
        (other, weight), *_ = state.weights.items()
        if other != version:
            raise ConfigError(
                f"alias {alias} is in the middle of a canary of version {other} "
                f"({_percent(weight)}% of traffic): finish that one with `invoke promote "
                f"--version {other} --canary ...`, or send its traffic back with "
                f"`invoke rollback --alias {alias}`. Nothing was changed."
            )
        reached = _percent(weight)
        log(f"resuming the canary of version {version} on {alias} at {reached}%")
    elif state.version == version:
        return AliasChange(alias=alias, before=version, after=version, created=False)
    old = state.version

    def checked(state: AliasState, where: str, checks: Sequence[Check]) -> AliasState:
        for check in checks:
            reason = check()
            if reason is None:
                continue
            if state.weights:
                aliases.shift_weight(client, function, state, version, 0)
                raise CanaryRolledBack(
                    f"canary of version {version} on {alias} stopped {where}: {reason}. "
                    f"All traffic is back on version {old}; version {version} is left "
                    "published."
                )
            raise CanaryRolledBack(f"canary of version {version} on {alias} not started: "
                                   f"{reason}. Nothing was changed.")
        return state

    state = checked(state, f"at {reached}%", checks if before is None else before)
    try:
        for weight in (w for w in weights if w > reached):
            state = aliases.shift_weight(client, function, state, version, weight / 100)
            log(f"{alias}: {weight}% of traffic to version {version}, {100 - weight}% to "
                f"{old}")
            wait(interval)
            state = checked(state, f"at {weight}%", checks)
    except KeyboardInterrupt:
        log(f"interrupted: {alias} still sends part of its traffic to version {version}. "
            f"Rerun the same promotion to finish it, or `invoke rollback --alias {alias}` "
            "to send it all back.")
        raise
    return aliases.promote(client, function, alias, version, expected=state)
