"""Alias moves outside a deploy: the order they must keep, and the record they leave.

``invoke promote`` and ``invoke rollback`` move an alias on their own, often in a CI
job of their own. Each move is written to the deploy records like a deploy's, so that
a later refusal can say when the alias moved to which version, from any machine that
shares the records; and each promotion is checked against the alias's order first.
"""

from __future__ import annotations

from .. import git, record_store, records
from ..aliases import AliasChange, AliasState
from ..aliases.ordering import check_order
from ..aws import AwsTarget
from ..report import Reporter
from ..settings import Settings
from .steps import save_record
from .targets import deploying_branch


def check_promotion_order(settings: Settings, target: AwsTarget, function: str,
                          current: AliasState | None, version: str, *,
                          allow_older: bool = False, allow_rolled_back: bool = False,
                          how_to_force: str = "--force") -> None:
    """Refuse (:class:`~lambda_gate.errors.OutOfOrder`) a promotion that steps back."""
    store = record_store.for_settings(settings, target)
    alias_name = current.name if current is not None else ""
    check_order(target.client("lambda"), function, current, version,
                promoted=lambda: store.moves(function, alias_name),
                allow_older=allow_older, allow_rolled_back=allow_rolled_back,
                how_to_force=how_to_force)


def record_move(settings: Settings, target: AwsTarget, reporter: Reporter, *,
                function: str, change: AliasChange, outcome: str,
                code_sha256: str | None = None, qualified_arn: str | None = None) -> None:
    """Write the record of an alias move (``outcome``: promoted, rolled-back).

    The alias has already moved: a record that cannot be written is a warning, and the
    move stays a success.
    """
    record = records.DeployRecord(
        environment=settings.environment.name, alias=change.alias, function=function,
        version=change.after, qualified_arn=qualified_arn, code_sha256=code_sha256,
        alias_before=change.before, alias_after=change.after, outcome=outcome,
        git_commit=git.git_commit(settings.root), git_branch=deploying_branch(settings))
    try:
        save_record(settings, record, target, reporter)
    except OSError as exc:
        reporter.warn(f"the record of this move could not be written ({exc.strerror}: "
                      f"{exc.filename}); the alias did move")
