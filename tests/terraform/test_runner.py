"""The terraform wrapper: its environment, init bookkeeping, output parsing and errors.

The pure parts run without terraform; init runs real terraform (with the provider mirror
of INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR when it is set, as in CI).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lambda_gate.errors import ConfigError, TerraformError
from lambda_gate.publish.outputs import OutputNames, outputs_from
from lambda_gate.publish.provider_mirror import cli_config_for_mirror, missing_providers
from lambda_gate.publish.terraform import Terraform
from lambda_gate.publish.tf_output import diagnostics, without_state_flag_warning

REFERENCE = Path(__file__).resolve().parents[2] / "terraform"

APPLY_FAILURE = """\
aws_lambda_function.this: Modifying... [id=fn]
aws_lambda_function.this: Modifications complete after 0s [id=fn]
aws_iam_role_policy.extra: Creating...
\u2577
\u2502 Error: putting IAM Role (fn) Policy (extra): operation error IAM: PutRolePolicy
\u2502
\u2502   with aws_iam_role_policy.extra,
\u2502   on extra.tf line 1, in resource "aws_iam_role_policy" "extra":
\u2502    1: resource "aws_iam_role_policy" "extra" {
\u2575
"""

STATE_FLAG_WARNING = [
    "",
    "Warning: Deprecated flag: -state",
    "",
    "Use `path` attribute within the `local` backend instead:",
    "https://developer.hashicorp.com/terraform/language/v1.10.x/settings/backends/local#path",
]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "terraform"
    shutil.copytree(REFERENCE, target, ignore=shutil.ignore_patterns(".terraform*"))
    return target


def mirror() -> Path | None:
    value = os.environ.get("INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR")
    return Path(value) if value else None


def test_the_mirror_config_installs_registry_providers_only_from_the_mirror():
    text = cli_config_for_mirror(Path("/srv/mirror"))

    assert 'filesystem_mirror {\n    path    = "/srv/mirror"' in text
    assert 'direct {\n    exclude = ["registry.terraform.io/*/*"]' in text


def test_terraform_runs_unattended_without_phoning_home(tmp_path):
    tf = Terraform(tmp_path, data_dir=tmp_path / "data", env={"TF_VAR_memory_size": "256"})

    env = tf.environment()

    assert (env["TF_IN_AUTOMATION"], env["TF_INPUT"], env["CHECKPOINT_DISABLE"]) == (
        "1", "0", "1")
    assert env["TF_DATA_DIR"] == str(tmp_path / "data")
    assert "TF_CLI_CONFIG_FILE" not in env


def test_a_plugin_dir_becomes_a_cli_config_in_the_data_dir(tmp_path):
    tf = Terraform(tmp_path, data_dir=tmp_path / "data", env={},
                   plugin_dir=tmp_path / "mirror")

    rc = Path(tf.environment()["TF_CLI_CONFIG_FILE"])

    assert rc.parent == tmp_path / "data"
    assert rc.read_text() == cli_config_for_mirror(tmp_path / "mirror")


def test_input_variables_are_the_tf_var_values_only(tmp_path):
    tf = Terraform(tmp_path, data_dir=tmp_path, env={"TF_VAR_a": "1", "HOME": "/root"})

    assert tf.input_variables() == {"TF_VAR_a": "1"}


def test_diagnostics_are_terraforms_error_block_without_its_box():
    text = diagnostics(APPLY_FAILURE)

    assert text.startswith("Error: putting IAM Role (fn) Policy (extra)")
    assert "on extra.tf line 1" in text
    assert "Modifying" not in text
    assert "\u2502" not in text


def test_diagnostics_without_an_error_block_are_the_last_lines():
    output = "\n".join(f"line {i}" for i in range(40))

    assert diagnostics(output).splitlines() == [f"line {i}" for i in range(25, 40)]


def test_the_state_flag_warning_is_not_shown_but_everything_else_is():
    shown: list[str] = []
    show = without_state_flag_warning(shown.append)

    for line in ["Initializing...", *STATE_FLAG_WARNING, "aws_iam_role.lambda: Refreshing",
                 "", "Plan: 0 to add"]:
        show(line)

    assert shown == ["Initializing...", "aws_iam_role.lambda: Refreshing", "", "Plan: 0 to add"]


def test_the_state_flag_warning_is_hidden_with_its_box_in_colour():
    shown: list[str] = []
    show = without_state_flag_warning(shown.append)
    boxed = ["\x1b[33m\u2577\x1b[0m",
             *(f"\x1b[33m\u2502\x1b[0m {line}" for line in STATE_FLAG_WARNING[1:]),
             "\x1b[33m\u2575\x1b[0m", "next"]

    for line in boxed:
        show(line)

    assert shown == ["next"]


def test_outputs_are_typed():
    outputs = outputs_from({"function_name": "fn", "version": "3",
                            "qualified_arn": "arn:aws:lambda:r:1:function:fn:3"}, source="s")

    assert (outputs.function_name, outputs.version) == ("fn", "3")
    assert outputs.qualified_arn.endswith(":3")


def test_missing_outputs_say_which_and_where_they_should_come_from():
    with pytest.raises(TerraformError) as raised:
        outputs_from({"function_name": "fn"}, source="state.tfstate")

    assert "terraform's outputs (state.tfstate) lack version" in str(raised.value)
    assert "terraform/outputs.tf" in str(raised.value)


def test_an_unpublished_version_output_points_at_publish():
    with pytest.raises(TerraformError) as raised:
        outputs_from({"function_name": "fn", "version": "$LATEST"}, source="s")

    assert "not a published version number: set publish = true" in str(raised.value)


def test_terraform_not_installed_says_how_to_install_it(config_dir, tmp_path):
    tf = Terraform(config_dir, data_dir=tmp_path / "data", binary="terraform-not-here")

    with pytest.raises(TerraformError) as raised:
        tf.apply()

    assert str(raised.value) == (
        "terraform not found ('terraform-not-here' is not on PATH): install Terraform 1.5 "
        "or newer (https://developer.hashicorp.com/terraform/install) or point "
        "lambda_gate.terraform.binary at it.")


def test_init_fingerprint_follows_the_tf_files_and_not_the_tfvars(config_dir, tmp_path):
    tf = Terraform(config_dir, data_dir=tmp_path / "data", env={})
    before = tf.init_fingerprint()

    (config_dir / "environments" / "dev.tfvars").write_text("memory_size = 1024\n")
    assert tf.init_fingerprint() == before

    (config_dir / "extra.tf").write_text('resource "random_id" "x" {\n  byte_length = 4\n}\n')
    assert tf.init_fingerprint() != before


def test_init_fingerprint_follows_the_lock_file(config_dir, tmp_path):
    tf = Terraform(config_dir, data_dir=tmp_path / "data", env={})
    before = tf.init_fingerprint()

    (config_dir / ".terraform.lock.hcl").write_text("# provider selections\n")

    assert tf.init_fingerprint() != before


def test_init_runs_once_and_not_again_for_the_same_inputs(config_dir, tmp_path,
                                                          terraform_binary):
    tf = Terraform(config_dir, data_dir=tmp_path / "data", binary=terraform_binary,
                   plugin_dir=mirror(), log=lambda line: None)

    assert tf.ensure_init() is True
    assert (config_dir / ".terraform.lock.hcl").is_file()
    assert tf.ensure_init() is False


def test_an_empty_provider_mirror_is_named_in_the_error(config_dir, tmp_path,
                                                        terraform_binary):
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    tf = Terraform(config_dir, data_dir=tmp_path / "data", binary=terraform_binary,
                   plugin_dir=empty, log=lambda line: None)

    with pytest.raises(TerraformError) as raised:
        tf.ensure_init()

    message = str(raised.value)
    assert message.startswith("terraform init failed (exit 1):\n"
                              "Error: Failed to query available provider packages")
    assert f"could not install hashicorp/aws from the mirror {empty}" in message
    assert "lambda_gate.terraform.plugin_dir" in message
    assert not (tmp_path / "data" / "lambda-gate-init").exists()


def test_a_missing_backend_config_file_says_what_to_create(tmp_path):
    (tmp_path / "main.tf").write_text('terraform {\n  backend "s3" {}\n}\n')
    tf = Terraform(tmp_path, data_dir=tmp_path / "data", env={},
                   backend_config=tmp_path / "prod.s3.hcl")

    with pytest.raises(ConfigError, match=r"backend config file .*prod\.s3\.hcl does not exist: "
                                          r"create it \(see terraform/backend/s3\.hcl\.example"):
        tf.ensure_init()


def test_outputs_are_found_by_the_articles_names_too():
    outputs = outputs_from({"lambda_name": "api-backend", "lambda_version": "4"}, source="s")

    assert (outputs.function_name, outputs.version, outputs.qualified_arn) == (
        "api-backend", "4", "")


def test_configured_output_names_are_read_instead():
    names = OutputNames.from_settings({"version": ("published",)})

    outputs = outputs_from({"function_name": "fn", "published": "7", "version": "1"},
                           source="s", names=names)

    assert outputs.version == "7"


def test_a_missing_provider_is_named_from_terraforms_wrapped_lines():
    output = ("Could not retrieve the list of available versions for provider\n"
              "hashicorp/null: provider registry.terraform.io/hashicorp/null was not found\n"
              "in any of the search locations\n")

    assert missing_providers(output) == ["hashicorp/null"]


def test_a_provider_missing_from_the_mirror_is_named_in_the_hint(tmp_path, terraform_binary):
    mirror_dir = tmp_path / "mirror"
    (mirror_dir / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    config = tmp_path / "config"
    config.mkdir()
    (config / "main.tf").write_text('resource "null_resource" "x" {}\n')
    tf = Terraform(config, data_dir=tmp_path / "data", binary=terraform_binary,
                   plugin_dir=mirror_dir, log=lambda line: None)

    with pytest.raises(TerraformError) as raised:
        tf.ensure_init()

    assert f"terraform could not install hashicorp/null from the mirror {mirror_dir}" in (
        str(raised.value))
    assert "registry.terraform.io/hashicorp/null/<version>/<os>_<arch>/" in str(raised.value)
    assert "the aws provider" not in str(raised.value)
