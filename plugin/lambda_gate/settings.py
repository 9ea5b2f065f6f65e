"""The settings' types: what the rest of the library is given instead of raw config.

:func:`lambda_gate.config.load` reads invoke's configuration once and returns these
small frozen dataclasses; every stage takes the part it needs (a build its
:class:`BuildSettings`, terraform its :class:`TerraformSettings`...). They live apart
from the reading so that a module that only needs a type, or a test that builds one by
hand, depends on the values and not on how invoke's config is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


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
    #: How many versions of each alias's history ``prune`` keeps, so ``rollback`` can
    #: still go back that many times (the first, the rollback target, always stays).
    keep_history: int = 2

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
