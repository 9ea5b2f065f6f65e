"""What makes an apply necessary: the inputs fingerprint of the no-op check.

An unchanged deploy skips terraform only when the artifact, the configuration, the
environment's tfvars and every TF_VAR_ value are unchanged; nothing volatile may count.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest

from lambda_gate import config
from lambda_gate.publish import inputs_fingerprint
from lambda_gate.settings import Settings

REFERENCE = Path(__file__).resolve().parents[2] / "terraform"
SHA = "y+Ucy6WdLJLVqslHmWjD3hef1fXcpfCfefsQbNaxs/E="
TF_VARS = {"TF_VAR_artifact_path": "/p/build/lambda.zip", "TF_VAR_memory_size": "128"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(REFERENCE, tmp_path / "terraform",
                    ignore=shutil.ignore_patterns(".terraform*"))
    return tmp_path


def settings(root: Path, env: str = "dev") -> Settings:
    raw = copy.deepcopy(config.DEFAULTS)
    raw["environments"]["dev"] = {"local": True,
                                  "var_files": "terraform/environments/dev.tfvars"}
    return config.load({"lambda_gate": raw}, root=root, environment=env)


def fingerprint(root: Path, sha: str = SHA, tf_vars=None, env: str = "dev") -> str:
    return inputs_fingerprint(settings(root, env), sha, TF_VARS if tf_vars is None else tf_vars)


def test_unchanged_inputs_give_the_same_fingerprint(root):
    assert fingerprint(root) == fingerprint(root)


def test_a_new_artifact_changes_it(root):
    assert fingerprint(root, sha="other") != fingerprint(root)


def test_a_changed_tfvars_value_changes_it(root):
    before = fingerprint(root)
    tfvars = root / "terraform/environments/dev.tfvars"
    tfvars.write_text(tfvars.read_text().replace("memory_size = 256", "memory_size = 512"))

    assert fingerprint(root) != before


def test_a_changed_tf_var_value_changes_it(root):
    assert fingerprint(root, tf_vars={**TF_VARS, "TF_VAR_memory_size": "256"}) != (
        fingerprint(root))


def test_a_changed_tf_file_changes_it(root):
    before = fingerprint(root)
    (root / "terraform/main.tf").write_text(
        (root / "terraform/main.tf").read_text().replace("publish = true", "publish = true\n"))

    assert fingerprint(root) != before


def test_another_environment_has_another_fingerprint(root):
    assert fingerprint(root, env="local") != fingerprint(root, env="dev")


@pytest.mark.parametrize("volatile", [
    "terraform.tfstate", "terraform.tfstate.backup", ".terraform.lock.hcl",
    ".terraform.tfstate.lock.info", "crash.log", "changes.tfplan",
    ".terraform/providers/marker", "terraform.tfstate.d/dev/terraform.tfstate",
])
def test_state_lock_and_terraform_working_files_do_not_count(root, volatile):
    before = fingerprint(root)
    path = root / "terraform" / volatile
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("written by terraform")

    assert fingerprint(root) == before
