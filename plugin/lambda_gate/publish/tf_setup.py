"""How terraform is set up to run: its executable, its environment, what init depends on.

Every terraform process lambda-gate starts runs unattended (``TF_IN_AUTOMATION``, no
input, no checkpoint call home) with a data directory of the environment's own, and,
given a provider mirror, with a CLI config that installs every registry provider from
it. ``init`` is costly (it re-hashes the whole provider), so it runs only when what it
depends on changed: :func:`init_fingerprint` says what that is. The runner
(:class:`.terraform.Terraform`) uses these; they hold no state of their own.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path

from ..errors import TerraformError
from .provider_mirror import cli_config_for_mirror

#: terraform's dependency lock file, beside the configuration: an input of ``init``.
LOCK_FILE = ".terraform.lock.hcl"
INSTALL_HINT = (
    "install Terraform 1.5 or newer (https://developer.hashicorp.com/terraform/install) "
    "or point lambda_gate.terraform.binary at it"
)


def find_terraform(binary: str) -> str:
    """The path of ``binary`` on PATH, or a :class:`TerraformError` saying how to install it."""
    found = shutil.which(binary)
    if not found:
        raise TerraformError(f"terraform not found ({binary!r} is not on PATH): "
                             f"{INSTALL_HINT}.")
    return found


def process_environment(base: Mapping[str, str], data_dir: Path,
                        plugin_dir: Path | None) -> dict[str, str]:
    """``base`` plus what every terraform run needs; with ``plugin_dir``, the CLI config
    for that mirror, written into ``data_dir`` (rewritten only when it changes)."""
    env = dict(base)
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    # terraform otherwise asks checkpoint-api.hashicorp.com for news on every run:
    # a network round trip (a DNS timeout without network) on each plan and apply.
    env["CHECKPOINT_DISABLE"] = "1"
    env["TF_DATA_DIR"] = str(data_dir)
    if plugin_dir is not None:
        rc = data_dir / "lambda-gate.tfrc"
        text = cli_config_for_mirror(plugin_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        if not rc.exists() or rc.read_text() != text:
            rc.write_text(text)
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    return env


def init_fingerprint(config_dir: Path, backend_config: Path | None,
                     plugin_dir: Path | None) -> str:
    """What ``init`` depends on: the configuration, lock file, backend and mirror.

    Every ``.tf`` file counts, because any of them may declare a provider (a new
    resource type is enough), a module or the backend; tfvars, state and the artifact
    do not, so a deploy that changes only those never re-initialises.
    """
    digest = hashlib.sha256()
    files = [*config_dir.glob("*.tf"), *config_dir.glob("*.tf.json"), config_dir / LOCK_FILE]
    for path in sorted(files):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    if backend_config is not None:
        digest.update(b"backend\0" + (backend_config.read_bytes()
                                        if backend_config.is_file() else b"missing"))
    digest.update(b"mirror\0" + str(plugin_dir).encode())
    return digest.hexdigest()
