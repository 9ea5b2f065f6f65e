"""One alias: reading it, moving it, and the history it carries.

An alias is moved with the RevisionId read just before, so two deploys racing on one
alias cannot silently overwrite each other. Its description carries the versions it
pointed at before, newest first, which is the history :func:`rollback_target` reads: it
travels with the alias, so a rollback works from any machine, not only the one that
deployed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from ..errors import AliasConflict, ConfigError, LambdaApiError

HISTORY_PREFIX = "lambda-gate history:"
ROLLED_BACK = "rolled back from:"
DESCRIPTION_LIMIT = 256
#: How many versions rolled back from an alias keeps; older ones may be promoted again.
ROLLED_BACK_KEPT = 5


@dataclass(frozen=True)
class AliasState:
    name: str
    version: str
    revision_id: str
    description: str = ""
    weights: Mapping[str, float] = field(default_factory=dict)

    @property
    def history(self) -> tuple[str, ...]:
        return parse_history(self.description)

    @property
    def rolled_back(self) -> tuple[str, ...]:
        """Versions a rollback moved this alias away from, newest first."""
        return parse_rolled_back(self.description)


@dataclass(frozen=True)
class AliasChange:
    alias: str
    before: str | None
    after: str
    created: bool

    def summary(self) -> str:
        if self.created:
            return f"created {self.alias} -> {self.after}"
        if self.before == self.after:
            return f"{self.alias} already at {self.after}"
        return f"promoted {self.alias}: {self.before} -> {self.after}"


def _versions(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip().isdigit())


def parse_history(description: str) -> tuple[str, ...]:
    """Versions the alias pointed at before, newest first, from its description."""
    if not description.startswith(HISTORY_PREFIX):
        return ()
    return _versions(description[len(HISTORY_PREFIX):].partition(";")[0])


def parse_rolled_back(description: str) -> tuple[str, ...]:
    """Versions a rollback moved the alias away from, newest first."""
    if not description.startswith(HISTORY_PREFIX):
        return ()
    for part in description.split(";")[1:]:
        label, _, versions = part.strip().partition(":")
        if f"{label}:" == ROLLED_BACK:
            return _versions(versions)
    return ()


def format_history(history: Sequence[str], rolled_back: Sequence[str] = ()) -> str:
    """The description holding ``history`` and ``rolled_back``, within Lambda's 256
    characters: the rolled-back versions (at most :data:`ROLLED_BACK_KEPT`) always
    fit, the history is cut, oldest first, to what room is left."""
    tail = ""
    if rolled_back:
        tail = f"; {ROLLED_BACK} " + ",".join(_unique(rolled_back)[:ROLLED_BACK_KEPT])
    text = HISTORY_PREFIX + " "
    kept: list[str] = []
    for version in history:
        if len(text + ",".join([*kept, version]) + tail) > DESCRIPTION_LIMIT:
            break
        kept.append(version)
    return text + ",".join(kept) + tail


def _unique(versions: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(versions))


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def state_from(alias: str, found: Mapping) -> AliasState:
    """An :class:`AliasState` from a GetAlias/UpdateAlias/ListAliases answer."""
    routing = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasState(name=alias, version=str(found["FunctionVersion"]),
                      revision_id=found.get("RevisionId", ""),
                      description=found.get("Description", ""),
                      weights={str(k): float(v) for k, v in routing.items()})


def get_alias(client, function: str, alias: str) -> AliasState | None:
    try:
        found = client.get_alias(FunctionName=function, Name=alias)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return None
        raise LambdaApiError(f"cannot read alias {alias} of {function}: {exc}") from None
    return state_from(alias, found)


def describe(state: AliasState | None) -> str:
    """Where an alias sends traffic, in words: ``version 4``, ``version 3 (10% to 4)``."""
    if state is None:
        return "nothing (it was deleted)"
    text = f"version {state.version}"
    if state.weights:
        shares = ", ".join(f"{round(w * 100)}% to {v}" for v, w in state.weights.items())
        text += f" ({shares})"
    return text


def _conflict(client, function: str, alias: str, doing: str) -> AliasConflict:
    live = get_alias(client, function, alias)
    return AliasConflict(
        f"alias {alias} was moved by another deploy while this one {doing}; it now points "
        f"at {describe(live)}. Nothing was changed; check `invoke status` and rerun."
    )


def _update(client, function: str, current: AliasState, doing: str, **changes) -> AliasState:
    """UpdateAlias conditional on ``current``'s RevisionId; the alias as it now is."""
    try:
        found = client.update_alias(FunctionName=function, Name=current.name,
                                    RevisionId=current.revision_id, **changes)
    except ClientError as exc:
        code = _code(exc)
        if code == "PreconditionFailedException" or (
                code == "ResourceNotFoundException"
                and get_alias(client, function, current.name) is None):
            raise _conflict(client, function, current.name, doing) from None
        raise LambdaApiError(f"cannot update alias {current.name} of {function}: "
                             f"{exc}") from None
    return state_from(current.name, found)


def promote(client, function: str, alias: str, version: str, *,
            expected: AliasState | None | bool = True) -> AliasChange:
    """Point ``alias`` wholly at ``version``: update it, or create it.

    ``expected`` is the alias as the caller last saw it (``None``: it did not exist);
    ``True`` means read it now. The write is conditional on that state, so a deploy
    that lost a race fails with :class:`AliasConflict` naming the version now live.
    A canary's weight toward another version is cleared: the alias ends on one version.
    """
    current = get_alias(client, function, alias) if expected is True else expected
    assert current is None or isinstance(current, AliasState)
    if current is None:
        try:
            client.create_alias(FunctionName=function, Name=alias, FunctionVersion=version,
                                Description=format_history([]))
        except ClientError as exc:
            # Lambda answers ResourceConflictException; moto, ConflictException.
            if _code(exc) in ("ResourceConflictException", "ConflictException"):
                live = get_alias(client, function, alias)
                raise AliasConflict(
                    f"alias {alias} was created by another deploy while this one ran; it "
                    f"now points at {describe(live)}. Nothing was changed; rerun to "
                    "promote on top of it."
                ) from None
            raise LambdaApiError(f"cannot create alias {alias}: {exc}") from None
        return AliasChange(alias=alias, before=None, after=version, created=True)
    if current.version == version and not current.weights:
        return AliasChange(alias=alias, before=version, after=version, created=False)
    history = [current.version, *[v for v in current.history if v != current.version]]
    history = [v for v in history if v != version]
    # Promoting a version rolled back from (only ever asked for with --force) clears it.
    rolled_back = [v for v in current.rolled_back if v != version]
    _update(client, function, current, "ran", FunctionVersion=version,
            Description=format_history(history, rolled_back),
            RoutingConfig={"AdditionalVersionWeights": {}})
    return AliasChange(alias=alias, before=current.version, after=version, created=False)


def shift_weight(client, function: str, current: AliasState, version: str,
                 weight: float) -> AliasState:
    """Send ``weight`` (0 to 1) of the alias's traffic to ``version``, the rest to its
    primary; 0 sends everything back to the primary. Guarded by ``current``'s RevisionId;
    the description (the history) is left as it is."""
    weights = {version: weight} if weight > 0 else {}
    return _update(client, function, current, "shifted traffic",
                   FunctionVersion=current.version,
                   RoutingConfig={"AdditionalVersionWeights": weights})


def version_exists(client, function: str, version: str) -> bool:
    try:
        client.get_function_configuration(FunctionName=function, Qualifier=version)
    except ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return False
        raise LambdaApiError(f"cannot read {function}:{version}: {exc}") from None
    return True


def rollback_target(client, function: str, alias: str,
                    to: str | None = None) -> tuple[AliasState, str]:
    """The alias as it is and the version a rollback moves it to.

    Without ``to``: during a canary (some traffic weighted toward a new version) the
    primary, i.e. the canary is abandoned; otherwise the version before the current one,
    from the alias's recorded history. Refuses when there is no history or that version
    no longer exists.
    """
    if to is not None and not (str(to).isascii() and str(to).isdigit()):
        raise ConfigError(f"--to {to!r} is not a version number.")
    current = get_alias(client, function, alias)
    if current is None:
        raise ConfigError(f"alias {alias} does not exist on {function}: nothing to roll back.")
    if to is not None:
        target = str(to)
    elif current.weights:
        return current, current.version
    else:
        previous = [v for v in current.history if v != current.version]
        if not previous:
            raise ConfigError(
                f"alias {alias} has no recorded history before version {current.version}: "
                "nothing to roll back to. Pass --to N to choose the version."
            )
        target = previous[0]
    if target == current.version and not current.weights:
        raise ConfigError(f"alias {alias} already points at version {target}.")
    if not version_exists(client, function, target):
        raise ConfigError(
            f"cannot roll {alias} back to version {target}: that version no longer exists "
            "(pruned or deleted). Pass --to N with a version that exists."
        )
    return current, target


def rollback(client, function: str, alias: str, to: str | None = None) -> AliasChange:
    """Move ``alias`` back; the version rolled away from leaves the history and is
    marked as rolled back from, so that a rerun of the deploy that published it does not
    promote it again.

    An alias in the middle of a canary goes wholly back to its primary version, with its
    history unchanged; the canary's version is the one rolled back from.
    """
    current, target = rollback_target(client, function, alias, to)
    if target == current.version:
        remaining = list(current.history)
        away = list(current.weights)
    else:
        remaining = [v for v in current.history if v not in (target, current.version)]
        away = [current.version, *current.weights]
    rolled_back = [v for v in [*away, *current.rolled_back] if v != target]
    _update(client, function, current, "rolled back", FunctionVersion=target,
            Description=format_history(remaining, rolled_back),
            RoutingConfig={"AdditionalVersionWeights": {}})
    return AliasChange(alias=alias, before=current.version, after=target, created=False)


def delete(client, function: str, alias: str) -> AliasState:
    """Delete ``alias``; the versions it pointed at stay (prune removes them later)."""
    current = get_alias(client, function, alias)
    if current is None:
        raise ConfigError(f"alias {alias} does not exist on {function}: nothing to delete.")
    try:
        client.delete_alias(FunctionName=function, Name=alias)
    except ClientError as exc:
        raise LambdaApiError(f"cannot delete alias {alias} of {function}: {exc}") from None
    return current
