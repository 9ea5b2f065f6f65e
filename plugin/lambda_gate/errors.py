"""The one exception root of lambda-gate.

Library code raises these with a message written for the person at the terminal:
what is wrong and how to fix it. Only the task layer (:mod:`lambda_gate.tasks`) turns
them into exit codes, so the library never exits the process and stays usable from
other programs and from tests.
"""

from __future__ import annotations


class Error(Exception):
    """Base of every error lambda-gate reports to a user.

    ``exit_code`` is the process exit status the task layer uses for it.
    """

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigError(Error):
    """A setting is missing or malformed; nothing has been changed."""

    exit_code = 2


class BuildError(Error):
    """The function package could not be built; no partial artifact is left."""


class TerraformError(Error):
    """terraform is missing or one of its commands failed; carries its diagnostics."""


class LostRace(Error):
    """Another deploy got there first, and nothing this one tried took effect there.

    Either it held terraform's state lock for longer than this run would wait
    (``terraform.lock_timeout``), or it moved the alias between this run's read and its
    write. A CI job may tell this from a failure by its exit code, and run again later.
    """

    exit_code = 4


class StateLocked(TerraformError, LostRace):
    """terraform's state lock was held by another run past ``terraform.lock_timeout``;
    terraform changed nothing."""


class StaleLock(TerraformError):
    """terraform's state lock is held by a run that is gone (or looks so), so waiting
    would never end; terraform changed nothing. ``invoke unlock`` frees it."""

    exit_code = 5


class LambdaApiError(Error):
    """A Lambda API call failed in a way the user has to act on."""


class AliasConflict(LambdaApiError, LostRace):
    """Another deploy moved the alias between our read and our write."""

    exit_code = 4


class OutOfOrder(LostRace):
    """Promoting would step the alias back: it serves a newer version than this one, or
    a rollback moved it away from this very version. Something later than this run
    (another deploy, a person rolling back) decided where the alias points; nothing was
    changed."""


class GateClosed(Error):
    """The smoke tests or the published version did not meet the gate."""


class ApprovalRequired(Error):
    """A protected alias would move without approval; deploy stops before promotion."""

    exit_code = 3


class LocalAwsError(Error):
    """The embedded local AWS could not be started, reached or stopped."""


class Interrupted(Error):
    """SIGINT or SIGTERM stopped a step; its child process was stopped cleanly first."""

    exit_code = 130
