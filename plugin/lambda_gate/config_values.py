"""The parsers behind :func:`lambda_gate.config.load`: one raw config value in, a checked one out.

invoke hands lambda-gate strings, numbers, lists and nested mappings from several
sources (``invoke.yaml``, ``tasks.py``, ``INVOKE_LAMBDA_GATE_...`` variables, which can
only be strings). These functions turn each into the type the settings hold, or raise a
:class:`~lambda_gate.errors.ConfigError` naming the setting's config path and how to fix
it. They live apart from the settings' dataclasses and defaults so that ``config.py``
reads as what can be set, and this module as how a value is read. The public ones
(:func:`as_list`, :func:`check_function`, :func:`parse_interpreters`) also serve
:mod:`lambda_gate.functions` and the local AWS; the ``_`` ones are ``load``'s alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError

#: The runtimes Lambda offers for new functions (python3.8 and nodejs16.x are closed to
#: creation). A Python name outside the list would pass the build and fail inside
#: terraform; any nodejsNN.x is let through (the local AWS runs older ones too).
RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
            "nodejs18.x", "nodejs20.x", "nodejs22.x")
_ARCHITECTURES = ("x86_64", "arm64")


def _section(cfg: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = cfg.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"lambda_gate.{key} must be a mapping, got {value!r}.")
    return value


def _required(section: Mapping[str, Any], path: str, key: str) -> Any:
    value = section.get(key)
    if value in (None, ""):
        raise ConfigError(
            f"lambda_gate.{path}.{key} is not set: add it to invoke.yaml "
            f"(lambda_gate: {{{path}: {{{key}: ...}}}}) or to ns.configure in tasks.py."
        )
    return value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def as_list(value: Any) -> tuple[str, ...]:
    """A comma-separated string (or a list) as a tuple of its non-empty items."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(v) for v in value)


def check_function(where: str, runtime: str, architecture: str) -> None:
    """A runtime and an architecture lambda-gate can build for, or a ConfigError."""
    if runtime not in RUNTIMES and not re.fullmatch(r"nodejs\d+\.x", runtime):
        raise ConfigError(
            f"{where}.runtime {runtime!r} is not a Lambda runtime lambda-gate builds "
            f"for: use one of {', '.join(r for r in RUNTIMES if r.startswith('python'))} "
            "or a nodejsNN.x runtime."
        )
    if architecture not in _ARCHITECTURES:
        raise ConfigError(
            f"{where}.architecture {architecture!r} is not one of x86_64, arm64."
        )


def parse_interpreters(value: Any) -> tuple[tuple[str, str], ...]:
    """``local_aws.interpreters``: a mapping of runtime to executable in invoke.yaml, or
    ``runtime=path,runtime=path`` from an environment variable."""
    if value in (None, ""):
        return ()
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), str(v)) for k, v in value.items() if v))
    if isinstance(value, str):
        pairs = []
        for item in filter(None, (part.strip() for part in value.split(","))):
            runtime, sep, executable = item.partition("=")
            if not sep or not runtime.strip() or not executable.strip():
                raise ConfigError(
                    f"lambda_gate.local_aws.interpreters: {item!r} is not runtime=executable "
                    "(for example python3.12=/usr/bin/python3.12).")
            pairs.append((runtime.strip(), executable.strip()))
        return tuple(sorted(pairs))
    raise ConfigError("lambda_gate.local_aws.interpreters must map runtimes to executables "
                      f"(python3.12: /usr/bin/python3.12), got {value!r}.")


def _number(section: Mapping[str, Any], key: str, default: float, kind: type) -> Any:
    raw = section.get(key, default)
    try:
        value = kind(default if raw in (None, "") else raw)
    except (TypeError, ValueError):
        raise ConfigError(f"lambda_gate.local_aws.{key} must be a number, got {raw!r}.") \
            from None
    if value <= 0:
        raise ConfigError(f"lambda_gate.local_aws.{key} must be above 0, got {raw!r}.")
    return value


def _count(value: Any, path: str, meaning: str, default: int) -> int:
    """A whole number, 0 or more: ``2``, or ``"2"`` from an environment variable; unset
    (``None``, ``""``) is ``default``.

    ``True`` and ``2.5`` are refused rather than read as 1 and 2: a count that is not
    what was written would silently keep or delete other versions.
    """
    if value is None or value == "":
        return default
    text = str(value).strip() if isinstance(value, (str, int)) else None
    if isinstance(value, bool) or text is None or not text.isascii() or not text.isdigit():
        raise ConfigError(f"lambda_gate.{path} must be a whole number, 0 or more "
                          f"({meaning}), got {value!r}.")
    return int(text)


_DURATION = re.compile(r"^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*$")


def _duration(value: Any, path: str, zero: str = "0 for no limit") -> float | None:
    """Seconds from ``900``, ``"900s"``, ``"15m"``, ``"1h30m"``; 0 or none: no limit.

    ``zero`` says in an error what 0 means for this setting.
    """
    if value in (None, "", 0, "0", "none"):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ConfigError(f"lambda_gate.{path} must be a duration such as 900, 90s, 15m or "
                          f"1h30m ({zero}), got {value!r}.")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds) or None


def _tf_value(value: Any, name: str) -> str:
    """A ``TF_VAR_`` value as terraform parses it: a map or list as an HCL (JSON) literal,
    a boolean as ``true``/``false``; Python's own spelling of either would not parse."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, sort_keys=True)
    if value is None:
        raise ConfigError(f"lambda_gate.terraform.vars.{name} has no value: give it one, "
                          "or remove it to use the variable's default.")
    return str(value)


def _plain(value: Any) -> Any:
    """invoke's DataProxy (not a Mapping) and its nested values as plain dicts/lists."""
    if hasattr(value, "keys") and not isinstance(value, (str, bytes)):
        return {key: _plain(value[key]) for key in value.keys()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


_OUTPUT_KEYS = ("function_name", "version", "qualified_arn")


def _output_names(value: Any) -> dict[str, tuple[str, ...]]:
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError("lambda_gate.terraform.outputs must be a mapping of "
                          f"{', '.join(_OUTPUT_KEYS)} to output names.")
    unknown = sorted(set(value) - set(_OUTPUT_KEYS))
    if unknown:
        raise ConfigError(f"lambda_gate.terraform.outputs.{unknown[0]} is not a value "
                          f"lambda-gate reads: use {', '.join(_OUTPUT_KEYS)}.")
    return {key: as_list(names) for key, names in value.items() if as_list(names)}
