"""One configuration for every environment: local state beside a declared S3 backend.

A team's configuration declares ``backend "s3" {}`` for its shared environments, and
a backend block applies to every run of its directory. The ``local`` environment
(the embedded local AWS) must still keep its state in a local file, so lambda-gate runs
terraform there in a copy of the configuration under the environment's own directory
(``.lambda-gate/env/local/tf-config``), with an override file that turns the backend
into ``local``. terraform merges ``*_override.tf`` files over the rest, which is how
the backend block is replaced without editing the user's files; the copy keeps the
override away from every other environment of the same checkout.

Only files are copied; a module referenced with a relative path that leaves the
configuration directory (``../modules/x``) does not resolve from the copy.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ..settings import Settings

OVERRIDE = "lambda_gate_local_backend_override.tf"
#: The copy keeps the provider lock file its own init writes (unless the original has one).
LOCK_FILE = ".terraform.lock.hcl"
OVERRIDE_TEXT = (
    "# Written by lambda-gate: this environment keeps its state in a local file, whatever\n"
    "# backend the configuration declares for the shared environments.\n"
    'terraform {\n  backend "local" {}\n}\n'
)
_BACKEND = re.compile(r'^\s*backend\s+"([A-Za-z0-9_-]+)"', re.M)
_SKIPPED = (".terraform", "terraform.tfstate.d")
_VOLATILE = (".tfstate", ".tfstate.backup", ".tfplan", ".lock.info", "crash.log")


def declared_backend(config_dir: Path) -> str | None:
    """The backend type the configuration's ``.tf`` files declare, if any (no parsing)."""
    for path in sorted(config_dir.glob("*.tf")):
        found = _BACKEND.search(path.read_text(errors="replace"))
        if found:
            return found.group(1)
    return None


def needs_override(config_dir: Path, *, local_state: bool) -> bool:
    """Whether an environment on local state must run a copy with the override."""
    return local_state and config_dir.is_dir() and declared_backend(config_dir) not in (
        None, "local")


def overrides_backend(settings: Settings) -> bool:
    """The ``local`` environment, on local state, of a configuration with a backend."""
    env = settings.environment
    return (env.local and env.backend_config is None
            and needs_override(settings.terraform.dir, local_state=True))


def prepare(config_dir: Path, copy_dir: Path) -> Path:
    """``copy_dir`` made a current copy of ``config_dir`` plus the override; returns it.

    Unchanged files are left as they are (terraform's data lives elsewhere), files gone
    from the configuration are removed from the copy.
    """
    wanted: dict[Path, bytes] = {}
    for path in sorted(config_dir.rglob("*")):
        relative = path.relative_to(config_dir)
        if (not path.is_file() or path.name.endswith(_VOLATILE)
                or any(part in _SKIPPED for part in relative.parts[:-1])):
            continue
        wanted[relative] = path.read_bytes()
    wanted[Path(OVERRIDE)] = OVERRIDE_TEXT.encode()
    if copy_dir.exists():
        for path in sorted(copy_dir.rglob("*"), reverse=True):
            relative = path.relative_to(copy_dir)
            if path.is_file() and relative not in wanted and path.name != LOCK_FILE:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                shutil.rmtree(path)
    for relative, data in wanted.items():
        target = copy_dir / relative
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return copy_dir
