"""What every task shares: reading the settings, and turning errors into exit codes.

This is the one place where a library :class:`~lambda_gate.errors.Error` becomes a
message and an exit code, never a traceback.
"""

from __future__ import annotations

import functools
from pathlib import Path

from invoke import Exit

from .. import config, functions
from ..children import interrupt_on_sigterm
from ..errors import Error
from ..settings import Settings


def exits(fn):
    """Turn lambda-gate's errors into ``Exit``: the message, its exit code, no traceback."""

    @functools.wraps(fn)
    def wrapper(c, *args, **kwargs):
        interrupt_on_sigterm()
        try:
            return fn(c, *args, **kwargs)
        except Error as exc:
            raise Exit(f"error: {exc.message}", code=exc.exit_code) from None
        except KeyboardInterrupt:
            raise Exit("interrupted", code=130) from None
        except OSError as exc:
            # A file lambda-gate must write or read and cannot (a read-only state dir,
            # a path that is a file): the file and the reason, not a traceback.
            where = f" {exc.filename}" if exc.filename else ""
            raise Exit(f"error: cannot use{where}: {exc.strerror or exc}. Check that "
                       "lambda_gate.state_dir and reports_dir are writable directories.",
                       code=1) from None

    return wrapper


def _refuse_broken_config_files() -> None:
    """A project's invoke.yaml that does not parse, or is not a mapping, is a usage error
    (exit 2) naming the file, instead of a YAML traceback from inside invoke.

    invoke reads the project's configuration after it imports ``tasks.py`` (and so this
    module), and lets its parser's errors escape; its own ``Exit`` is the one exception
    its command line turns into a message and an exit code.
    """
    import invoke.config

    original = invoke.config.Config._load_yaml
    if getattr(original, "_lambda_gate", False):
        return

    def load_yaml(self, path):
        try:
            data = original(self, path)
        except OSError:
            raise  # "no such file" is how invoke learns the file is absent
        except Exception as exc:  # yaml's errors share no base class invoke exports
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise Exit(f"error: {path} is not valid YAML{where}: {problem}. Fix the file "
                       "(settings go under a top-level lambda_gate: key).", code=2) from None
        if data is not None and not isinstance(data, dict):
            raise Exit(f"error: {path} must be a mapping of settings (lambda_gate: ...), "
                       f"not a {type(data).__name__}.", code=2)
        return data

    load_yaml._lambda_gate = True  # type: ignore[attr-defined]
    invoke.config.Config._load_yaml = load_yaml  # type: ignore[method-assign]
    invoke.config.Config._load_yml = load_yaml  # type: ignore[method-assign]


_refuse_broken_config_files()


def settings_from(c, env: str | None = None) -> Settings:
    # invoke remembers where it found tasks.py as a prefix ("/repo/"); paths in the
    # settings are relative to that directory.
    prefix = getattr(c.config, "_project_prefix", None)
    root = Path(prefix) if prefix else Path.cwd()
    return config.load(c.config, root=root, environment=env)


def is_unit(settings: Settings, function: str | None) -> bool:
    """Whether a task works on a service of several functions; checks ``--function``
    (a single function's configuration knows only its own key)."""
    functions.select(settings.functions, function)
    return settings.is_unit
