"""Which configuration an environment's local state belongs to.

A state file describes what one configuration made. Pointed at another configuration
(``terraform.dir`` changed, or a second service's directory), terraform plans to
destroy everything the first one made and create the second's. So lambda-gate records,
next to each local state it keeps, the configuration that applied it (its directory,
relative to the project, so it is the same in every clone), and refuses to plan or
apply another configuration onto it unless told to adopt the state (``--adopt-state``,
for a configuration that moved or was renamed). The plan guard still stands behind
that: adopting a state never lets a function be destroyed without ``--allow-replace``.

A remote backend's state is named by its own key; give each configuration its own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ConfigError
from ..settings import Settings


def configuration_id(settings: Settings) -> str:
    """``terraform.dir`` relative to the project (absolute when outside it)."""
    tf_dir = settings.terraform.dir.resolve()
    try:
        return tf_dir.relative_to(settings.root.resolve()).as_posix()
    except ValueError:
        return tf_dir.as_posix()


def origin_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".configuration")


def _has_resources(state_path: Path) -> bool:
    try:
        return bool(json.loads(state_path.read_text()).get("resources"))
    except (OSError, ValueError, AttributeError):
        return False


def check_state_origin(settings: Settings, *, adopt: bool = False) -> None:
    """Refuse to plan this configuration onto a local state another one made."""
    if settings.environment.backend_config is not None:
        return
    state = settings.state_path
    origin = origin_path(state)
    if not _has_resources(state) or not origin.is_file():
        return
    recorded = origin.read_text().strip()
    current = configuration_id(settings)
    if recorded == current or adopt:
        return
    raise ConfigError(
        f"environment {settings.environment.name!r} keeps the state of the configuration "
        f"in {recorded}/, but lambda_gate.terraform.dir is now {current}/: terraform would "
        f"plan to destroy what {recorded}/ made. Nothing was changed. Put "
        "lambda_gate.terraform.dir back, deploy the other configuration to an environment "
        f"of its own, or, if {current}/ is the same configuration moved, run again with "
        "--adopt-state (the plan guard still refuses to replace a function without "
        "--allow-replace)."
    )


def record_state_origin(settings: Settings) -> None:
    """After an apply: this configuration owns the environment's local state."""
    if settings.environment.backend_config is not None:
        return
    origin = origin_path(settings.state_path)
    current = configuration_id(settings)
    if origin.is_file() and origin.read_text().strip() == current:
        return
    origin.parent.mkdir(parents=True, exist_ok=True)
    tmp = origin.with_name(origin.name + f".{os.getpid()}.tmp")
    tmp.write_text(current + "\n")
    os.replace(tmp, origin)
