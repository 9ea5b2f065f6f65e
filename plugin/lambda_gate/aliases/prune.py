"""Pruning: delete published versions nobody can reach any more.

Every deploy publishes a version and Lambda keeps them all, counting their code against
the account's storage quota (75 GB by default). A version is kept when any alias sends
it traffic (as primary or as a canary's weighted version), when it is among the first
``keep_history`` versions of an alias's history (what ``rollback`` moves back to: the
first is kept whatever the setting, so no alias loses its rollback target), or when it
is among the newest ``keep`` versions that passed their smoke tests. Counting only
passing versions matters: the newest versions are often the ones that failed, and
keeping them instead of the last good one would leave nothing to roll back to.
``$LATEST`` is never a candidate. Which versions go is decided by :func:`plan_prune`, a
pure function of the listings; :func:`prune` lists (every page), plans, and deletes one
by one through a client that backs off when throttled.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from ..errors import ConfigError, LambdaApiError
from .alias import state_from

#: How many versions of each alias's history a prune keeps by default: enough for
#: ``invoke rollback`` twice (``lambda_gate.aliases.keep_history``).
DEFAULT_KEEP_HISTORY = 2

#: Given the numbered versions a prune found, those a deploy record shows passed
#: their smoke tests (the task asks the environment's record store).
PassingVersions = Callable[[Collection[str]], Collection[str]]


def retry_config():
    """Retries for a long run of deletes: botocore's adaptive mode paces calls by the
    throttling it meets (TooManyRequestsException is one of its throttling codes).
    Made on demand: importing botocore.config costs a quarter of a second."""
    from botocore.config import Config

    return Config(retries={"mode": "adaptive", "max_attempts": 10})


@dataclass(frozen=True)
class VersionInfo:
    """One published version, as ListVersionsByFunction describes it."""

    version: str
    code_size: int
    code_sha256: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class PrunePlan:
    """What a prune keeps and deletes, and why each kept version is kept.

    ``keep_newest``: the newest ``keep`` passing versions, newest first.
    ``keep_aliased``: version -> the aliases that send it traffic.
    ``reasons``: every kept version -> why, in words (``"main's version"``,
    ``"main's history (rollback target)"``, ``"weighted 10% on main"``, ``"one of the
    newest 3 passing"``), so a dry run can say why nothing else goes.
    """

    keep_newest: tuple[str, ...]
    keep_aliased: Mapping[str, tuple[str, ...]]
    delete: tuple[VersionInfo, ...]
    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def kept(self) -> tuple[str, ...]:
        """The kept versions, newest first."""
        return tuple(sorted(self.reasons, key=int, reverse=True))

    @property
    def freed_bytes(self) -> int:
        return sum(v.code_size for v in self.delete)


@dataclass(frozen=True)
class PruneResult:
    function: str
    plan: PrunePlan
    deleted: tuple[VersionInfo, ...]
    skipped: Mapping[str, str]
    dry_run: bool

    @property
    def freed_bytes(self) -> int:
        return sum(v.code_size for v in self.deleted)

    def summary(self) -> str:
        if self.dry_run:
            return (f"dry run: would delete {len(self.plan.delete)} version(s) of "
                    f"{self.function}, freeing {format_bytes(self.plan.freed_bytes)}")
        return (f"deleted {len(self.deleted)} version(s) of {self.function}, freed "
                f"{format_bytes(self.freed_bytes)}")


def format_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def validate_keep(keep: object) -> int:
    """``--keep`` as a positive number; 0 would delete the newest deploy's version."""
    try:
        number = int(str(keep))
    except ValueError:
        raise ConfigError(f"--keep {keep!r} is not a number: pass how many of the newest "
                          "passing versions to keep, 1 or more.") from None
    if number < 1:
        raise ConfigError(f"--keep {number} would delete every unaliased version, the "
                          "newest deploy's too: pass --keep 1 or more.")
    return number


def referenced_versions(aliases: Iterable[Mapping]) -> dict[str, tuple[str, ...]]:
    """Version -> names of the aliases that send it traffic (primary or weighted)."""
    found: dict[str, list[str]] = {}
    for alias in aliases:
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        for version in {str(alias["FunctionVersion"]), *map(str, weights)}:
            found.setdefault(version, []).append(alias["Name"])
    return {v: tuple(sorted(names)) for v, names in found.items()}


def alias_reasons(aliases: Iterable[Mapping], keep_history: int) -> dict[str, list[str]]:
    """Version -> why the aliases need it: primary, weighted, or in the history.

    The history is read through :attr:`AliasState.history` and, like ``rollback``, skips
    the alias's own version; its first entry is where ``rollback`` goes, so it is kept
    even with ``keep_history`` 0.
    """
    reasons: dict[str, list[str]] = {}
    for found in sorted(aliases, key=lambda a: str(a["Name"])):
        state = state_from(str(found["Name"]), found)
        reasons.setdefault(state.version, []).append(f"{state.name}'s version")
        for version, weight in sorted(state.weights.items()):
            reasons.setdefault(version, []).append(
                f"weighted {weight * 100:g}% on {state.name}")
        previous = [v for v in state.history if v != state.version]
        for place, version in enumerate(previous[:max(keep_history, 1)]):
            reasons.setdefault(version, []).append(
                f"{state.name}'s history (rollback target)" if place == 0
                else f"{state.name}'s history")
    return reasons


def plan_prune(versions: Sequence[VersionInfo], aliases: Iterable[Mapping], keep: int, *,
               passing: Collection[str],
               keep_history: int = DEFAULT_KEEP_HISTORY) -> PrunePlan:
    """Keep what the aliases use or may roll back to, and the newest ``keep`` of the
    ``passing`` versions; delete the rest, oldest first.

    A version with no passing record (it failed its smoke tests, or was never tested)
    does not count toward ``keep``: keeping a broken newest version in place of the last
    good one is what left ``rollback`` with nothing to go back to.
    """
    keep = validate_keep(keep)
    aliases = list(aliases)
    numbered = sorted((v for v in versions if v.version.isdigit()),
                      key=lambda v: int(v.version), reverse=True)
    existing = {v.version for v in numbered}
    newest = tuple(v.version for v in numbered if v.version in passing)[:keep]
    reasons = {v: why for v, why in alias_reasons(aliases, keep_history).items()
               if v in existing}
    for version in newest:
        reasons.setdefault(version, []).append(f"one of the newest {keep} passing")
    referenced = referenced_versions(aliases)
    aliased = {v.version: referenced[v.version] for v in numbered
               if v.version in referenced}
    delete = tuple(v for v in reversed(numbered) if v.version not in reasons)
    return PrunePlan(keep_newest=newest, keep_aliased=aliased, delete=delete,
                     reasons={v: tuple(why) for v, why in reasons.items()})


def _pages(call: Callable[..., Mapping], key: str, **params) -> list[Mapping]:
    """Every item of a Lambda list API, following NextMarker to the last page."""
    items: list[Mapping] = []
    marker = None
    while True:
        page = call(**params, **({"Marker": marker} if marker else {}))
        items.extend(page.get(key, []))
        marker = page.get("NextMarker")
        if not marker:
            return items


def list_versions(client, function: str) -> list[VersionInfo]:
    """Every version of ``function`` (``$LATEST`` included), all pages."""
    try:
        found = _pages(client.list_versions_by_function, "Versions", FunctionName=function)
    except ClientError as exc:
        raise _api_error(exc, function, "list the versions of") from None
    return [VersionInfo(version=str(v["Version"]), code_size=int(v.get("CodeSize") or 0),
                        code_sha256=v.get("CodeSha256", ""),
                        last_modified=v.get("LastModified", "")) for v in found]


def list_aliases(client, function: str) -> list[Mapping]:
    """Every alias of ``function``, all pages."""
    try:
        return _pages(client.list_aliases, "Aliases", FunctionName=function)
    except ClientError as exc:
        raise _api_error(exc, function, "list the aliases of") from None


def _api_error(exc: ClientError, function: str, doing: str) -> LambdaApiError:
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "ResourceNotFoundException":
        return LambdaApiError(f"function {function} does not exist: check "
                              "lambda_gate.function.name or the environment (--env).")
    if code in ("TooManyRequestsException", "ThrottlingException"):
        return LambdaApiError(f"Lambda kept throttling the calls to {doing} {function}, "
                              "even after backing off: rerun later; nothing more was "
                              "changed.")
    return LambdaApiError(f"cannot {doing} {function}: {exc}")


def prune(client, function: str, keep: int, *, passing: PassingVersions,
          keep_history: int = DEFAULT_KEEP_HISTORY, dry_run: bool = False,
          log: Callable[[str], None] = print) -> PruneResult:
    """Delete ``function``'s versions that no alias uses or may roll back to, beyond the
    newest ``keep`` passing ones (see :func:`plan_prune`).

    ``passing`` is asked once, with every numbered version listed, so the records are
    read once for the whole prune rather than once a version. ``client`` should carry
    :func:`retry_config`. A version an alias took up after the listing (Lambda refuses to
    delete it) or that is already gone is skipped and reported, not an error: another
    deploy may be running. A dry run also says why each kept version stays.
    """
    keep = validate_keep(keep)
    versions = list_versions(client, function)
    found_aliases = list_aliases(client, function)
    numbered = [v.version for v in versions if v.version.isdigit()]
    plan = plan_prune(versions, found_aliases, keep, passing=set(passing(numbered)),
                      keep_history=keep_history)
    if dry_run:
        for version in plan.kept:
            log(f"would keep {function}:{version}: {'; '.join(plan.reasons[version])}")
        for info in plan.delete:
            log(f"would delete {function}:{info.version} ({format_bytes(info.code_size)})")
        return PruneResult(function, plan, (), {}, dry_run=True)
    deleted: list[VersionInfo] = []
    skipped: dict[str, str] = {}
    for info in plan.delete:
        try:
            client.delete_function(FunctionName=function, Qualifier=info.version)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceConflictException":
                skipped[info.version] = "an alias now uses it"
                continue
            if code == "ResourceNotFoundException":
                skipped[info.version] = "already deleted"
                continue
            raise _api_error(exc, function, f"delete version {info.version} of") from None
        deleted.append(info)
        log(f"deleted {function}:{info.version} ({format_bytes(info.code_size)})")
    for version, reason in skipped.items():
        log(f"skipped {function}:{version}: {reason}")
    return PruneResult(function, plan, tuple(deleted), skipped, dry_run=False)
