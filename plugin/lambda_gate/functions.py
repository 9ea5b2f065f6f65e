"""The functions of a service: ``lambda_gate.functions.<key>``, each a unit member.

A service of several functions (an HTTP API, a queue worker, a scheduled job) is
deployed, tested and promoted as one unit. Each function is configured under its own
key, and every setting it leaves out is inherited from the top-level ``function``,
``build`` and ``smoke`` settings, so a key needs little more than its source directory::

    lambda_gate:
      function: {runtime: python3.12}
      functions:
        api:    {source_dir: services/api, include: shared}
        worker: {source_dir: services/worker, handler: worker.handler, include: shared}

Without ``functions`` the service is the one function of the top-level settings, under
the key ``function`` (:data:`~lambda_gate.settings.SINGLE_KEY`), so code downstream can
always iterate over ``Settings.functions``.

Per key: ``source_dir``, ``runtime``, ``handler``, ``architecture``, ``name`` (the
function's name before any apply), ``include`` (directories packaged beside the source,
each under its own name: shared code), ``smoke_path`` (default ``<smoke.path>/<key>``)
and ``build`` (``artifact``, default ``build/<key>.zip``; ``requirements``, ``command``,
``output_dir``, ``exclude``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .config_values import as_list, check_function
from .errors import ConfigError
from .settings import SINGLE_KEY, BuildSettings, FunctionSettings, ServiceFunction

#: Keys become file names, terraform map keys and log prefixes: kept plain.
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_FUNCTION_KEYS = frozenset({"source_dir", "runtime", "handler", "architecture", "name",
                            "include", "smoke_path", "build"})
_BUILD_KEYS = frozenset({"artifact", "requirements", "command", "output_dir", "exclude"})


def parse(raw: Any, *, function: FunctionSettings, build: BuildSettings,
          smoke_path: Path, path: Callable[[Any], Path]) -> tuple[ServiceFunction, ...]:
    """``lambda_gate.functions`` as :class:`ServiceFunction` values, sorted by key.

    ``function``, ``build`` and ``smoke_path`` are the top-level settings each key
    inherits; ``path`` makes a configured path absolute.
    """
    if raw in (None, "", {}):
        return (ServiceFunction(SINGLE_KEY, function, build, smoke_path),)
    if not isinstance(raw, Mapping):
        raise ConfigError("lambda_gate.functions must be a mapping of key: settings, "
                          "e.g. functions: {api: {source_dir: services/api}}.")
    found = []
    for key in sorted(raw):
        where = f"lambda_gate.functions.{key}"
        if not _KEY.match(str(key)) or key == SINGLE_KEY:
            raise ConfigError(
                f"{where}: the key {key!r} must be 1 to 32 lowercase letters, digits, '-' "
                f"or '_', starting with a letter, and not {SINGLE_KEY!r} (it names files "
                "and terraform map keys)."
            )
        entry = raw[key] or {}
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a mapping (source_dir, handler, ...).")
        _known(entry, _FUNCTION_KEYS, where)
        own_build = entry.get("build") or {}
        if not isinstance(own_build, Mapping):
            raise ConfigError(f"{where}.build must be a mapping (artifact, requirements, "
                              "command, output_dir, exclude).")
        _known(own_build, _BUILD_KEYS, f"{where}.build")
        if not entry.get("source_dir"):
            raise ConfigError(f"{where}.source_dir is not set: each function names the "
                              "directory holding its code.")
        runtime = str(entry.get("runtime") or function.runtime)
        architecture = str(entry.get("architecture") or function.architecture)
        check_function(where, runtime, architecture)
        settings = replace(
            function, source_dir=path(entry["source_dir"]), runtime=runtime,
            handler=str(entry.get("handler") or function.handler),
            architecture=architecture, name=entry.get("name") or None)
        includes = tuple(path(p) for p in as_list(entry.get("include")))
        for included in includes:
            if not included.is_dir():
                raise ConfigError(f"{where}.include: {included} is not a directory: name "
                                  "the shared code's directories, comma-separated.")
        names = [p.name for p in includes]
        if len(set(names)) != len(names):
            raise ConfigError(f"{where}.include: two directories are both called "
                              f"{_first_repeat(names)!r}; each is packaged under its name.")
        requirements = own_build.get("requirements")
        built = replace(
            build, source_dir=settings.source_dir, runtime=runtime, handler=settings.handler,
            architecture=architecture,
            artifact=path(own_build.get("artifact") or f"build/{key}.zip"),
            cache_dir=build.cache_dir / key,
            requirements=path(requirements) if requirements else build.requirements,
            command=own_build.get("command", build.command) or None,
            output_dir=own_build.get("output_dir", build.output_dir) or None,
            exclude=(as_list(own_build["exclude"]) if "exclude" in own_build
                     else build.exclude),
            include=includes)
        smoke = path(entry["smoke_path"]) if entry.get("smoke_path") else smoke_path / key
        found.append(ServiceFunction(str(key), settings, built, smoke))
    artifacts = [f.build.artifact for f in found]
    if len(set(artifacts)) != len(artifacts):
        raise ConfigError("lambda_gate.functions: two functions write the same artifact "
                          f"{_first_repeat(artifacts)}: give each its own build.artifact.")
    return tuple(found)


def select(functions: tuple[ServiceFunction, ...],
           key: str | None) -> tuple[ServiceFunction, ...]:
    """The functions a task works on: all of them, or the one ``--function KEY`` names."""
    if key is None:
        return functions
    for fn in functions:
        if fn.key == key:
            return (fn,)
    known = ", ".join(f.key for f in functions)
    raise ConfigError(f"--function {key!r} is not a configured function (configured: "
                      f"{known}): pick one of those, or add it under lambda_gate.functions.")


def _known(entry: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(map(str, entry)) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r}; the settings are "
                          f"{', '.join(sorted(allowed))}.")


def _first_repeat(items: list) -> Any:
    seen = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None
