"""Settings, read from invoke's own configuration.

Every setting lives under the ``lambda_gate`` key of invoke's config, so it can come
from the collection's defaults (:data:`DEFAULTS`, installed by ``ns.configure``), a
project's ``invoke.yaml``, ``tasks.py`` or an ``INVOKE_LAMBDA_GATE_...`` environment
variable, with invoke's usual precedence. This module turns that nested mapping into
small frozen dataclasses once, validating as it goes, so the rest of the library never
reads raw config and a bad value is reported by its config path.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

#: The collection's defaults; ``ns.configure({"lambda_gate": DEFAULTS})``.
DEFAULTS: dict[str, Any] = {
    "function": {
        # The function's name is taken from terraform's outputs; this is only used
        # when no deploy has happened yet (status, rollback before any apply).
        "name": None,
        "source_dir": "src",
        "runtime": "python3.11",
        "handler": "app.handler",
        "architecture": "x86_64",
    },
    "build": {
        "artifact": "build/lambda.zip",
        "requirements": None,  # default: requirements.txt or pyproject.toml in source_dir
        "command": None,  # Node.js: a build step such as "npm run build"
        "output_dir": None,  # Node.js: what the build step writes, e.g. "dist"
        "exclude": "",
        # Directories outside source_dir that the source's symlinks may point into (a
        # shared library in a monorepo); a link resolving anywhere else is refused.
        "link_roots": "",
        "cache_dir": None,  # default: <state_dir>/build-cache
    },
    "terraform": {
        "dir": "terraform",
        "binary": "terraform",
        # A provider mirror for machines without registry access: the directory that
        # holds registry.terraform.io/hashicorp/aws/... (passed as -plugin-dir).
        "plugin_dir": None,
        "vars": {},
        # Output names for the values lambda-gate reads (comma-separated; unset: the
        # defaults in lambda_gate.publish.outputs, which include the article's
        # lambda_name and lambda_version).
        "outputs": {"function_name": None, "version": None, "qualified_arn": None},
        # Let an apply replace or destroy a function, alias or role in use (the
        # plan guard refuses it otherwise; --allow-replace does the same once).
        "allow_replace": False,
        # Each terraform command is stopped (SIGINT, then killed) after this long.
        "timeout": "1h",
        # How long terraform waits for a state lock another run holds (-lock-timeout);
        # "0s": not at all, the deploy that finds the state locked stops (exit 4).
        "lock_timeout": "5m",
        # A lock this old whose holder cannot be checked (another host) is taken for
        # one left by a killed run: the deploy stops and names `invoke unlock`.
        "stale_lock_after": "15m",
    },
    # Lists are written as comma-separated strings, so that invoke's environment
    # overrides (INVOKE_LAMBDA_GATE_...) can set them: invoke refuses env values for
    # list-typed settings.
    "smoke": {
        "path": "smoke",
        "pytest_args": "",
        # The smoke run is stopped after this long and the gate stays closed.
        "timeout": "15m",
    },
    "aliases": {
        "protected": "main",
        "approve": False,
        # CloudWatch alarms a canary watches: names, or prefixes ending in '*';
        # {alias} and {function} are filled in.
        "alarms": "",
    },
    "environment": "local",
    "environments": {
        # The embedded local AWS is nobody's production: no alias is protected there.
        "local": {"region": "us-east-1", "protected": ""},
    },
    "local_aws": {
        "host": "127.0.0.1",
        "port": 4750,
        # A local AWS that is already running elsewhere (tests, a shared dev box): use
        # it instead of starting one.
        "url": None,
        # runtime -> interpreter for functions, e.g. {python3.12: /opt/py312/bin/python3.12};
        # unset runtimes are found on PATH and in pyenv, asdf, uv, nvm, volta, fnm, n.
        "interpreters": {},
        # Start a new execution environment for every invocation (no warm reuse).
        "fresh_environments": False,
        "max_environments": 16,
        "idle_seconds": 300,
    },
    "state_dir": ".lambda-gate",
    "reports_dir": None,
    # A service of several functions, each under its key (see lambda_gate.functions);
    # empty: the one function above.
    "functions": {},
}

#: The runtimes Lambda offers for new functions (python3.8 and nodejs16.x are closed to
#: creation). A Python name outside the list would pass the build and fail inside
#: terraform; any nodejsNN.x is let through (the local AWS runs older ones too).
RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13",
            "nodejs18.x", "nodejs20.x", "nodejs22.x")
#: Files and directories at a repository's root that are not function code: tests,
#: CI configuration and lambda-gate's own (what ``lambda-gate init`` writes).
_REPOSITORY_FILES = ("tests", "test", ".github", ".circleci", "tasks.py", "invoke.yaml",
                     "tox.ini", "Makefile", ".gitignore")
_ARCHITECTURES = ("x86_64", "arm64")


@dataclass(frozen=True)
class FunctionSettings:
    source_dir: Path
    runtime: str
    handler: str
    architecture: str
    name: str | None = None

    @property
    def language(self) -> str:
        """``"python"`` or ``"node"``, from the runtime."""
        return "python" if self.runtime.startswith("python") else "node"


@dataclass(frozen=True)
class BuildSettings:
    source_dir: Path
    artifact: Path
    runtime: str
    handler: str
    architecture: str
    cache_dir: Path
    requirements: Path | None = None
    command: str | None = None
    output_dir: str | None = None
    exclude: tuple[str, ...] = ()
    link_roots: tuple[Path, ...] = ()
    #: The repository's own files and directories that are never function code (the
    #: terraform configuration, smoke tests, lambda-gate's state, CI files...): left out
    #: when they lie inside the source directory (``source_dir: "."``).
    repository_paths: tuple[Path, ...] = ()
    #: Directories packaged beside the source, each under its own name (shared code).
    include: tuple[Path, ...] = ()


@dataclass(frozen=True)
class EnvironmentSettings:
    """One deployment target: an account, a region, its tfvars and its own state."""

    name: str
    region: str
    local: bool
    profile: str | None = None
    role_arn: str | None = None
    var_files: tuple[Path, ...] = ()
    state_path: Path | None = None
    backend_config: Path | None = None
    branches: tuple[str, ...] = ()
    protected: tuple[str, ...] | None = None
    #: ``s3://bucket/prefix/``: deploy records shared by every machine (else local only).
    records_url: str | None = None


@dataclass(frozen=True)
class TerraformSettings:
    dir: Path
    binary: str
    plugin_dir: Path | None
    vars: Mapping[str, str] = field(default_factory=dict)
    #: Output names to read, per key (function_name, version, qualified_arn); a key
    #: left out keeps lambda-gate's defaults.
    outputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    allow_replace: bool = False
    timeout: float | None = None
    #: Seconds terraform waits for a state lock held by another run (0: no wait).
    lock_timeout: float = 300.0
    #: A lock older than this (seconds) whose holder cannot be checked is taken as
    #: stale (None: never by age alone).
    stale_lock_after: float | None = 900.0


#: The file name of an environment's last-apply summary.
LAST_APPLY = "last-apply.json"

#: The key of the one function of a configuration without ``functions``.
SINGLE_KEY = "function"


@dataclass(frozen=True)
class ServiceFunction:
    """One function of the service (:mod:`lambda_gate.functions`): its key, settings,
    build and smoke tests."""

    key: str
    function: FunctionSettings
    build: BuildSettings
    smoke_path: Path


@dataclass(frozen=True)
class Settings:
    root: Path
    function: FunctionSettings
    build: BuildSettings
    terraform: TerraformSettings
    smoke_path: Path
    smoke_args: tuple[str, ...]
    protected_aliases: tuple[str, ...]
    approve: bool
    alarms: str
    environment: EnvironmentSettings
    local_host: str
    local_port: int
    local_url: str | None
    state_dir: Path
    reports_dir: Path
    #: Every function of the service, sorted by key; the top-level function alone
    #: (key :data:`SINGLE_KEY`) when ``lambda_gate.functions`` is not set.
    functions: tuple[ServiceFunction, ...] = ()
    #: How the local AWS runs functions: runtime -> interpreter, and its environments.
    local_interpreters: tuple[tuple[str, str], ...] = ()
    local_fresh_environments: bool = False
    local_max_environments: int = 16
    local_idle_seconds: float = 300.0

    @property
    def is_unit(self) -> bool:
        """Whether ``lambda_gate.functions`` configures a unit of several functions."""
        return len(self.functions) > 1 or any(f.key != SINGLE_KEY for f in self.functions)
    smoke_timeout: float | None = 900.0

    @property
    def env_state_dir(self) -> Path:
        """Where this environment's terraform data, state and records live."""
        return self.state_dir / "env" / self.environment.name

    @property
    def state_path(self) -> Path:
        """The environment's local terraform state (unused with a backend config)."""
        if self.environment.state_path is not None:
            return self.environment.state_path
        return self.env_state_dir / "terraform.tfstate"

    @property
    def records_dir(self) -> Path:
        """Where the environment's deploy records are kept."""
        return self.env_state_dir / "records"

    @property
    def last_apply_path(self) -> Path:
        """The summary of the environment's last successful apply (outputs, fingerprint)."""
        return self.env_state_dir / LAST_APPLY


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
        import json

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


def load(config: Any, *, root: Path | None = None,
         environment: str | None = None) -> Settings:
    """Build :class:`Settings` from invoke's config (``c.config``).

    ``environment`` (a task's ``--env``) beats ``lambda_gate.environment``. Relative
    paths are taken from ``root``, the directory invoke found ``tasks.py`` in.
    """
    raw = _plain(config.get("lambda_gate"))
    if not isinstance(raw, Mapping):
        raise ConfigError(
            "no lambda_gate settings found: use the collection from lambda_gate.tasks "
            "(it installs the defaults) or add a lambda_gate section to invoke.yaml."
        )
    root = (root or Path.cwd()).resolve()

    def path(value: Any) -> Path:
        p = Path(os.path.expanduser(str(value)))
        return p if p.is_absolute() else root / p

    fn = _section(raw, "function")
    runtime = str(_required(fn, "function", "runtime"))
    arch = str(fn.get("architecture") or "x86_64")
    check_function("lambda_gate.function", runtime, arch)
    state_dir = path(raw.get("state_dir") or ".lambda-gate")
    function = FunctionSettings(
        source_dir=path(_required(fn, "function", "source_dir")),
        runtime=runtime,
        handler=str(_required(fn, "function", "handler")),
        architecture=arch,
        name=fn.get("name") or None,
    )

    b = _section(raw, "build")
    tf = _section(raw, "terraform")
    smoke = _section(raw, "smoke")
    reports = raw.get("reports_dir")
    artifact = path(_required(b, "build", "artifact"))
    repository_paths = (
        path(tf.get("dir") or "terraform"), path(smoke.get("path") or "smoke"), state_dir,
        path(reports) if reports else state_dir / "reports",
        *([artifact.parent] if artifact.parent != root else []),
        *(root / name for name in _REPOSITORY_FILES),
    )
    build = BuildSettings(
        source_dir=function.source_dir,
        artifact=artifact,
        runtime=runtime,
        handler=function.handler,
        architecture=arch,
        cache_dir=path(b.get("cache_dir") or state_dir / "build-cache"),
        requirements=path(b["requirements"]) if b.get("requirements") else None,
        command=b.get("command") or None,
        output_dir=b.get("output_dir") or None,
        exclude=as_list(b.get("exclude")),
        link_roots=tuple(path(p) for p in as_list(b.get("link_roots"))),
        repository_paths=repository_paths,
    )

    tf_vars = tf.get("vars") or {}
    if not isinstance(tf_vars, Mapping):
        raise ConfigError("lambda_gate.terraform.vars must be a mapping of name: value.")
    terraform = TerraformSettings(
        dir=path(_required(tf, "terraform", "dir")),
        binary=str(tf.get("binary") or "terraform"),
        plugin_dir=path(tf["plugin_dir"]) if tf.get("plugin_dir") else None,
        vars={str(k): _tf_value(v, str(k)) for k, v in tf_vars.items()},
        outputs=_output_names(tf.get("outputs")),
        allow_replace=_as_bool(tf.get("allow_replace")),
        timeout=_duration(tf.get("timeout"), "terraform.timeout"),
        # No limit on a wait means no wait at all: "0s" switches waiting off.
        lock_timeout=_duration(tf.get("lock_timeout", "5m"), "terraform.lock_timeout",
                               "0s not to wait") or 0.0,
        stale_lock_after=_duration(tf.get("stale_lock_after", "15m"),
                                   "terraform.stale_lock_after",
                                   "0 never to judge a lock by its age"),
    )

    env_name = environment or str(raw.get("environment") or "local")
    environments = _section(raw, "environments")
    if env_name not in environments:
        known = ", ".join(sorted(environments)) or "none"
        raise ConfigError(
            f"unknown environment {env_name!r} (configured: {known}): pick one of those "
            "with --env, or add it under lambda_gate.environments."
        )
    env_raw = environments[env_name] or {}
    if not isinstance(env_raw, Mapping):
        raise ConfigError(f"lambda_gate.environments.{env_name} must be a mapping.")
    is_local = _as_bool(env_raw.get("local", env_name == "local"))
    if env_raw.get("state") and env_raw.get("backend_config"):
        raise ConfigError(
            f"lambda_gate.environments.{env_name} sets both state and backend_config: "
            "keep one (a local state file, or a backend such as S3)."
        )
    records_url = str(env_raw.get("records_url") or "").strip() or None
    if records_url is not None and (not records_url.startswith("s3://")
                                    or not records_url[5:].split("/")[0]):
        raise ConfigError(
            f"lambda_gate.environments.{env_name}.records_url is {records_url!r}: write it "
            "as s3://BUCKET/PREFIX/ (a bucket this environment's credentials may read and "
            "write), or remove it to keep the records on this machine only."
        )
    env = EnvironmentSettings(
        name=env_name,
        region=str(env_raw.get("region") or os.environ.get("AWS_REGION")
                   or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"),
        local=is_local,
        profile=env_raw.get("profile") or None,
        role_arn=env_raw.get("role_arn") or None,
        var_files=tuple(path(v) for v in as_list(env_raw.get("var_files"))),
        state_path=path(env_raw["state"]) if env_raw.get("state") else None,
        backend_config=(path(env_raw["backend_config"])
                        if env_raw.get("backend_config") else None),
        branches=as_list(env_raw.get("branches")),
        protected=(as_list(env_raw["protected"]) if "protected" in env_raw
                   and env_raw["protected"] is not None else None),
        records_url=records_url,
    )

    if env_raw.get("terraform_dir"):
        # One environment may run a configuration of its own (another account's layout).
        terraform = dataclasses.replace(terraform, dir=path(env_raw["terraform_dir"]))

    aliases = _section(raw, "aliases")
    local_aws = _section(raw, "local_aws")
    host = str(local_aws.get("host") or "127.0.0.1")
    try:
        port = int(local_aws.get("port", 4750))
    except (TypeError, ValueError):
        raise ConfigError(
            f"lambda_gate.local_aws.port must be a number, got {local_aws.get('port')!r}."
        ) from None
    smoke_path = path(smoke.get("path") or "smoke")
    from . import functions as service  # it builds on this module's dataclasses

    return Settings(
        root=root,
        function=function,
        build=build,
        terraform=terraform,
        smoke_path=smoke_path,
        smoke_args=as_list(smoke.get("pytest_args")),
        protected_aliases=(env.protected if env.protected is not None
                           else as_list(aliases.get("protected"))),
        approve=_as_bool(aliases.get("approve")),
        alarms=",".join(as_list(aliases.get("alarms"))),
        environment=env,
        local_host=host,
        local_port=port,
        local_url=str(local_aws.get("url") or "").rstrip("/") or None,
        local_interpreters=parse_interpreters(_plain(local_aws.get("interpreters"))),
        local_fresh_environments=_as_bool(local_aws.get("fresh_environments")),
        local_max_environments=_number(local_aws, "max_environments", 16, int),
        local_idle_seconds=_number(local_aws, "idle_seconds", 300.0, float),
        state_dir=state_dir,
        reports_dir=path(reports) if reports else state_dir / "reports",
        functions=service.parse(raw.get("functions"), function=function, build=build,
                                smoke_path=smoke_path, path=path),
        smoke_timeout=_duration(smoke.get("timeout", "15m"), "smoke.timeout"),
    )
