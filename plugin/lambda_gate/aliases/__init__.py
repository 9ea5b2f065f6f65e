"""The promote stage and an alias's life after it: names, moves, canary, rollback, prune, status.

Takes a published, tested version and a Lambda client; gives aliases that point at it.
Every write is conditional on the RevisionId last read, so racing deploys cannot
silently overwrite each other. Canary shifting (:mod:`.canary`), pruning (:mod:`.prune`)
and the status report (:mod:`.status`) are modules of their own.
"""

from .alias import (
    DESCRIPTION_LIMIT,
    HISTORY_PREFIX,
    AliasChange,
    AliasState,
    delete,
    describe,
    format_history,
    get_alias,
    parse_history,
    promote,
    rollback,
    rollback_target,
    shift_weight,
    state_from,
    version_exists,
)
from .names import alias_for_branch, resolve_alias, validate_alias

__all__ = [
    "DESCRIPTION_LIMIT", "HISTORY_PREFIX", "AliasChange", "AliasState", "alias_for_branch",
    "delete", "describe", "format_history", "get_alias", "parse_history", "promote",
    "resolve_alias", "rollback", "rollback_target", "shift_weight", "state_from",
    "validate_alias", "version_exists",
]
