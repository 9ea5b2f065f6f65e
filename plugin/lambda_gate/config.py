"""Settings, read from invoke's own configuration.

Every setting lives under the ``lambda_gate`` key of invoke's config, so it can come
from the collection's defaults (:data:`DEFAULTS`, installed by ``ns.configure``), a
project's ``invoke.yaml``, ``tasks.py`` or an ``INVOKE_LAMBDA_GATE_...`` environment
variable, with invoke's usual precedence. This module turns that nested mapping into
small frozen dataclasses (:mod:`lambda_gate.settings`) once, validating as it goes
(:mod:`lambda_gate.config_values` reads each value), so the rest of the library never
reads raw config and a bad value is reported by its config path.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import functions as service
from .config_values import (
    _as_bool,
    _count,
    _duration,
    _number,
    _output_names,
    _plain,
    _required,
    _section,
    _tf_value,
    as_list,
    check_function,
    parse_interpreters,
)
from .errors import ConfigError
from .settings import (
    BuildSettings,
    EnvironmentSettings,
    FunctionSettings,
    Settings,
    TerraformSettings,
)

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
        # How many versions of each alias's history `invoke prune` keeps (None: 2, so
        # `invoke rollback` can go back twice); the first, the rollback target, always
        # stays. None rather than 2: invoke would convert INVOKE_..._KEEP_HISTORY to
        # int itself, failing with a traceback on a bad value instead of our message.
        "keep_history": None,
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

#: Files and directories at a repository's root that are not function code: tests,
#: CI configuration and lambda-gate's own (what ``lambda-gate init`` writes).
_REPOSITORY_FILES = ("tests", "test", ".github", ".circleci", "tasks.py", "invoke.yaml",
                     "tox.ini", "Makefile", ".gitignore")




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
        keep_history=_count(aliases.get("keep_history"), "aliases.keep_history",
                            "how many versions of each alias's history prune keeps", 2),
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
