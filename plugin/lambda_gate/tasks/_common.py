"""What every task shares: reading the settings, and turning errors into exit codes.

This is the one place where a library :class:`~lambda_gate.errors.Error` becomes a
message and an exit code, never a traceback.
"""

from __future__ import annotations

import functools
from pathlib import Path

from invoke import Exit

from .. import config, functions
from ..errors import Error


def exits(fn):
    """Turn lambda-gate's errors into ``Exit``: the message, its exit code, no traceback."""

    @functools.wraps(fn)
    def wrapper(c, *args, **kwargs):
        try:
            return fn(c, *args, **kwargs)
        except Error as exc:
            raise Exit(f"error: {exc.message}", code=exc.exit_code) from None
        except KeyboardInterrupt:
            raise Exit("interrupted", code=130) from None

    return wrapper


def settings_from(c, env: str | None = None) -> config.Settings:
    # invoke remembers where it found tasks.py as a prefix ("/repo/"); paths in the
    # settings are relative to that directory.
    prefix = getattr(c.config, "_project_prefix", None)
    root = Path(prefix) if prefix else Path.cwd()
    return config.load(c.config, root=root, environment=env)


def is_unit(settings: config.Settings, function: str | None) -> bool:
    """Whether a task works on a service of several functions; checks ``--function``
    (a single function's configuration knows only its own key)."""
    functions.select(settings.functions, function)
    return settings.is_unit
