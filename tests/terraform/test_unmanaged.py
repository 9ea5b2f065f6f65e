"""The function name terraform would create, told before terraform runs, by its rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_gate.publish.terraform import Terraform
from lambda_gate.publish.unmanaged import configured_name, state_has_function

MAIN = '''
variable "function_name" {
  type    = string
  default = "from-default"
}

resource "aws_lambda_function" "this" {
  function_name = var.function_name
}
'''


def terraform(tmp_path: Path, *, env=None, var_files=()) -> Terraform:
    return Terraform(tmp_path / "tf", data_dir=tmp_path / "data", env=env or {},
                     state_path=tmp_path / "state.tfstate", var_files=var_files)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(MAIN)
    return tmp_path / "tf"


def name(tmp_path, config, **kwargs) -> str | None:
    found = configured_name(terraform(tmp_path, **kwargs), config)
    return found[1] if found else None


def test_the_default_when_nothing_sets_it(tmp_path, config):
    assert configured_name(terraform(tmp_path), config) == ("aws_lambda_function.this",
                                                            "from-default")


def test_terraform_precedence_var_file_over_tfvars_over_environment(tmp_path, config):
    env = {"TF_VAR_function_name": "from-env"}
    assert name(tmp_path, config, env=env) == "from-env"
    (config / "terraform.tfvars").write_text('function_name = "from-tfvars"\n')
    assert name(tmp_path, config, env=env) == "from-tfvars"
    (config / "a.auto.tfvars").write_text('function_name = "from-a-auto"\n')
    (config / "b.auto.tfvars").write_text('function_name = "from-b-auto"\n')
    assert name(tmp_path, config, env=env) == "from-b-auto"
    first, second = tmp_path / "one.tfvars", tmp_path / "two.tfvars"
    first.write_text('function_name = "from-one"\n')
    second.write_text('function_name = "from-two"\n')
    assert name(tmp_path, config, env=env, var_files=(first, second)) == "from-two"


def test_a_name_built_by_an_expression_is_not_guessed(tmp_path, config):
    (config / "main.tf").write_text(MAIN.replace("var.function_name",
                                                 '"${var.function_name}-api"'))
    assert configured_name(terraform(tmp_path), config) is None


@pytest.mark.parametrize(("state", "manages"), [
    (None, False),
    ("", False),
    ({"version": 4, "resources": []}, False),
    ({"resources": [{"mode": "managed", "type": "aws_lambda_function", "instances": []}]},
     False),
    ({"resources": [{"mode": "data", "type": "aws_lambda_function", "instances": [{}]}]},
     False),
    ({"resources": [{"mode": "managed", "type": "aws_lambda_function",
                     "instances": [{"attributes": {}}]}]}, True),
], ids=["no-file", "empty-file", "no-resources", "no-instances", "data-source", "managed"])
def test_whether_the_state_manages_a_function(tmp_path, state, manages):
    tf = terraform(tmp_path)
    if state is not None:
        tf.state_path.write_text(state if isinstance(state, str) else json.dumps(state))
    assert state_has_function(tf) is manages
