"""Preflight of a function that lives in a module, and of the aws provider.

The module roots start from README's terraform-aws-modules/lambda root, as a user would
copy it; the local module is the stand-in under ``fixtures/lambda-module``. No terraform
runs here.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lambda_gate.publish import preflight
from lambda_gate.publish.problems import ConfigProblems, Problem

REPO = Path(__file__).resolve().parents[2]
MODULE = Path(__file__).resolve().parent / "fixtures" / "lambda-module"
REFERENCE = REPO / "terraform"


def readme_module_root() -> str:
    """README's root for terraform-aws-modules/lambda, exactly as written there."""
    blocks = re.findall(r"```hcl\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    roots = [block for block in blocks if 'module "lambda"' in block]
    assert len(roots) == 1, "README shows one module root"
    return roots[0]


def as_local_module(root: str) -> str:
    """The README root calling the local stand-in instead of the registry module."""
    local = root.replace('source  = "terraform-aws-modules/lambda/aws"',
                         'source  = "./modules/lambda"')
    assert local != root
    return re.sub(r'\n  version = "[^"]*"\n', "\n", local)


@pytest.fixture
def registry_root(tmp_path: Path) -> Path:
    target = tmp_path / "terraform"
    target.mkdir()
    (target / "main.tf").write_text(readme_module_root())
    return target


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    target = tmp_path / "terraform"
    target.mkdir()
    (target / "main.tf").write_text(as_local_module(readme_module_root()))
    shutil.copytree(MODULE, target / "modules" / "lambda")
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def check(config_dir: Path, **options):
    options.setdefault("local_state", True)
    options.setdefault("shared_environment", False)
    return preflight.check(config_dir, **options)


def problems(config_dir: Path, **options) -> tuple[Problem, ...]:
    with pytest.raises(ConfigProblems) as raised:
        check(config_dir, **options)
    return raised.value.problems


def test_readmes_terraform_aws_modules_root_passes(registry_root):
    report = check(registry_root)

    assert report.function.address == "module.lambda"
    assert report.warnings == ()


def test_the_registry_module_must_publish_and_take_lambda_gates_package(registry_root):
    main = registry_root / "main.tf"
    edit(main, "  publish                = true\n", "")
    edit(main, "create_package         = false", "create_package         = true")

    found = problems(registry_root)

    call = line_of(main, 'module "lambda"')
    assert [(p.where, p.fix.split(":")[0]) for p in found] == [
        (f"terraform/main.tf:{call}",
         "set `publish = true` in module.lambda"),
        (f"terraform/main.tf:{line_of(main, 'create_package')}",
         "set `create_package = false` in module.lambda"),
    ]


def test_a_module_root_without_outputs_is_told_the_modules_output_names(registry_root):
    main = registry_root / "main.tf"
    text = main.read_text()
    main.write_text(text[:text.index('output "function_name"')])

    found = problems(registry_root)

    assert [p.fix.split(";")[0] for p in found] == [
        'add `output "function_name" { value = module.lambda.lambda_function_name }`',
        'add `output "version" { value = module.lambda.lambda_function_version }`',
    ]


def test_readmes_root_on_a_local_module_of_the_same_shape_passes(local_root):
    report = check(local_root)

    assert report.function.address == "module.lambda"
    assert local_root / "modules" / "lambda" / "main.tf" in {
        path.resolve() for path in report.files} | set(report.files)


def test_a_local_module_is_checked_through_its_variables(local_root):
    main = local_root / "main.tf"
    edit(main, "publish                = true", "publish                = false")
    edit(main, "local_existing_package = var.artifact_path",
         'local_existing_package = "../lambda.zip"')

    found = problems(local_root)

    assert [p.where for p in found] == [
        f"terraform/main.tf:{line_of(main, 'publish ')}",
        f"terraform/main.tf:{line_of(main, 'local_existing_package')}"]
    assert found[0].what == ("module.lambda passes publish = false, which the module's "
                             "function uses as publish")
    assert found[1].fix == "set `local_existing_package = var.artifact_path` in module.lambda"


def test_a_problem_inside_a_local_module_names_the_modules_file(local_root):
    inner = local_root / "modules" / "lambda" / "main.tf"
    edit(inner, "source_code_hash = filebase64sha256(var.local_existing_package)",
         'source_code_hash = "fixed"')

    found = problems(local_root)

    assert found[0].where == (
        f"terraform/modules/lambda/main.tf:{line_of(inner, 'source_code_hash')}")


def test_another_modules_function_is_accepted_through_its_outputs_with_a_warning(tmp_path):
    root = tmp_path / "terraform"
    root.mkdir()
    (root / "main.tf").write_text(
        'variable "artifact_path" { type = string }\n'
        'module "fn" {\n  source = "acme/function/aws"\n  package = var.artifact_path\n}\n'
        'output "function_name" { value = module.fn.name }\n'
        'output "version" { value = module.fn.version }\n')

    report = check(root)

    assert report.function.address == "module.fn"
    assert report.warnings[0].startswith("terraform/main.tf:2: lambda-gate cannot see inside "
                                         'module.fn (source "acme/function/aws")')


def test_another_module_that_is_not_given_the_package_is_a_problem(tmp_path):
    root = tmp_path / "terraform"
    root.mkdir()
    (root / "main.tf").write_text(
        'variable "artifact_path" { type = string }\n'
        'module "fn" {\n  source = "acme/function/aws"\n  publish = true\n}\n'
        'output "function_name" { value = module.fn.name }\n'
        'output "version" { value = module.fn.version }\n')

    (problem,) = problems(root)

    assert problem.what == "no argument of module.fn passes var.artifact_path"


# -- the provider ---------------------------------------------------------------------


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "terraform"
    shutil.copytree(REFERENCE, target, ignore=shutil.ignore_patterns(".terraform*"))
    return target


def pin(config_dir: Path, body: str) -> Path:
    versions = config_dir / "versions.tf"
    edit(versions, 'provider "aws" {}', 'provider "aws" {\n' + body + "}")
    return versions


def test_a_provider_pinning_another_region_is_an_error_naming_the_line(config_dir):
    versions = pin(config_dir, '  region = "eu-west-1"\n')

    (problem,) = problems(config_dir, region="us-east-1", environment="dev")

    assert problem.where == f"terraform/versions.tf:{line_of(versions, 'region')}"
    assert problem.what.startswith('provider "aws" pins region = "eu-west-1", but '
                                   "environment 'dev' deploys to us-east-1")
    assert "lambda_gate.environments.dev.region to eu-west-1" in problem.fix


def test_a_provider_pinning_the_environments_own_region_is_warned_about(config_dir):
    versions = pin(config_dir, '  region = "us-east-1"\n')

    report = check(config_dir, region="us-east-1")

    assert report.warnings == (
        f'terraform/versions.tf:{line_of(versions, "region")}: provider "aws" sets region = '
        '"us-east-1": lambda-gate\'s environments cannot move it; prefer a plain provider '
        '"aws" {} and lambda_gate.environments.<name>.region',)


@pytest.mark.parametrize(("body", "name", "kind"), [
    ('  profile = "prod"\n', "profile", "credentials"),
    ('  access_key = "x"\n  secret_key = "y"\n', "access_key", "credentials"),
    ('  endpoints {\n    lambda = "http://127.0.0.1:4566"\n  }\n', "endpoints", "endpoint"),
])
def test_a_provider_pinning_credentials_or_endpoints_is_an_error(config_dir, body, name, kind):
    versions = pin(config_dir, body)

    found = problems(config_dir, region="us-east-1")

    assert found[0].where == f"terraform/versions.tf:{line_of(versions, name)}"
    assert found[0].what.startswith(f'provider "aws" pins its {kind} ({name})')


def test_an_aliased_provider_for_another_region_is_left_alone(config_dir):
    (config_dir / "replica.tf").write_text(
        'provider "aws" {\n  alias  = "replica"\n  region = "eu-west-1"\n}\n')

    assert check(config_dir, region="us-east-1").warnings == ()
