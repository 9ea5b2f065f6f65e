"""Configurations as teams bring them, deployed with real invoke and terraform.

The article's ``lambda.tf`` after exactly the edits README documents, and README's
terraform-aws-modules/lambda root on a local module of the same shape, each deploy and
promote (checked through boto3). Before them, the checks that stop a deploy before
anything is built: several problems at once, and a provider pinning its region.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from deploy_steps import step_runner

HERE = Path(__file__).resolve().parent
README = HERE.parents[1] / "README.md"
ARTICLE = HERE / "fixtures" / "article" / "lambda.tf"
MODULE = HERE / "fixtures" / "lambda-module"

NODE_HANDLER = "exports.handler = async (event) => ({ pong: event.ping, run: RUN });\n"
NODE_SMOKE = '''\
def test_the_function_answers_ping(lambda_invoke):
    assert lambda_invoke({"ping": 1}).payload["pong"] == 1
'''


def readme_article_edits() -> tuple[list[str], list[str], str]:
    """README's line changes for the article (old lines, new lines) and its variable."""
    text = README.read_text()
    section = text[text.index("**The article's `lambda.tf`**"):text.index("**A module.**")]
    block = "".join(re.findall(r"```\n(.*?)```", section, re.DOTALL)).splitlines()
    old = [line[1:] for line in block if line.startswith("-")]
    new = [line[1:] for line in block if line.startswith("+")]
    variable = re.search(r"`(variable \"artifact_path\" \{[^`]*\})`", section).group(1)
    return old, new, variable


def readme_module_root() -> str:
    blocks = re.findall(r"```hcl\n(.*?)```", README.read_text(), re.DOTALL)
    (root,) = [block for block in blocks if 'module "lambda"' in block]
    local = root.replace('source  = "terraform-aws-modules/lambda/aws"',
                         'source  = "./modules/lambda"')
    return re.sub(r'\n  version = "[^"]*"\n', "\n", local)


def node_project(make_project, name: str, invoke_yaml: str):
    project = make_project(name)
    shutil.rmtree(project.root / "terraform")
    shutil.rmtree(project.root / "src")
    shutil.rmtree(project.root / "smoke")
    project.write("src/dist/main.js", "const RUN = 1;\n" + NODE_HANDLER)
    project.write("smoke/test_ping.py", NODE_SMOKE)
    project.write("invoke.yaml", invoke_yaml)
    return project


def next_run(project) -> None:
    main = project.root / "src" / "dist" / "main.js"
    count = int(main.read_text().split("RUN = ")[1].split(";")[0])
    main.write_text(f"const RUN = {count + 1};\n" + NODE_HANDLER)


# -- the article's lambda.tf --------------------------------------------------------------


@pytest.fixture(scope="module")
def article(make_project):
    return node_project(make_project, "article", (
        "lambda_gate:\n"
        "  function: {runtime: nodejs20.x, handler: dist/main.handler}\n"))


@pytest.fixture(scope="module")
def unedited_article(article):
    shutil.copytree(HERE / "fixtures" / "article", article.root / "terraform")
    return article.invoke("deploy")


@pytest.fixture(scope="module")
def edited_article(unedited_article, article, lambda_client):
    old, new, variable = readme_article_edits()
    lambda_tf = article.root / "terraform" / "lambda.tf"
    text = lambda_tf.read_text()
    for before, after in zip(old, new, strict=True):
        assert before in text
        text = text.replace(before, after)
    lambda_tf.write_text(text + "\n" + variable + "\n")
    return step_runner(article, lambda_client, "api-backend")("deploy")


def test_the_unedited_article_gets_every_problem_before_any_build(unedited_article, article):
    output = unedited_article.stdout + unedited_article.stderr
    assert unedited_article.returncode == 2, output
    assert "error: the terraform configuration in terraform/ has 3 problems" in output
    assert "1. terraform/lambda.tf:20: aws_lambda_function.lambda uploads" in output
    assert '     - filename         = "../lambda.zip"\n' in output
    assert ('2. terraform/lambda.tf:26: aws_lambda_function.lambda has runtime = '
            '"nodejs12.x", but lambda-gate builds and checks the package for '
            'lambda_gate.function.runtime = "nodejs20.x"') in output
    assert '3. terraform/: variable "artifact_path" is not declared' in output
    assert "==> build" not in output
    assert not (article.root / "build").exists()
    assert "Traceback" not in output


def test_the_article_after_the_documented_edits_deploys_and_promotes(edited_article,
                                                                      lambda_client):
    assert edited_article.result.returncode == 0, edited_article.output
    assert (edited_article.versions, edited_article.aliases) == (["1"], {"main": "1"})
    config = lambda_client.get_function_configuration(FunctionName="api-backend",
                                                      Qualifier="main")
    assert (config["Runtime"], config["Handler"]) == ("nodejs20.x", "dist/main.handler")


# -- a module root ------------------------------------------------------------------------

MODULE_FUNCTION = "tf-module-root"


@pytest.fixture(scope="module")
def module_project(make_project):
    project = node_project(make_project, MODULE_FUNCTION, (
        "lambda_gate:\n"
        "  function: {runtime: nodejs20.x, handler: dist/main.handler}\n"
        f"  terraform:\n    vars: {{function_name: {MODULE_FUNCTION}}}\n"))
    project.write("terraform/main.tf", readme_module_root())
    shutil.copytree(MODULE, project.root / "terraform" / "modules" / "lambda")
    return project


@pytest.fixture(scope="module")
def module_runs(module_project, lambda_client):
    run = step_runner(module_project, lambda_client, MODULE_FUNCTION)
    first = run("deploy")
    next_run(module_project)
    return first, run("deploy")


def test_a_module_root_deploys_and_promotes(module_runs, lambda_client):
    first, second = module_runs
    assert first.result.returncode == 0, first.output
    assert first.aliases == {"main": "1"}
    assert second.result.returncode == 0, second.output
    assert "promoted main: 1 -> 2" in second.output
    assert (second.versions, second.aliases) == (["1", "2"], {"main": "2"})
    answer = lambda_client.invoke(FunctionName=MODULE_FUNCTION, Qualifier="main",
                                  Payload=b'{"ping": 1}')
    assert b'"run":2' in answer["Payload"].read()


# -- stopped before anything is built -----------------------------------------------------


@pytest.fixture(scope="module")
def reference(make_project):
    return make_project("tf-own-checks")


def test_several_problems_are_reported_in_one_run_before_any_build(reference):
    main = reference.root / "terraform" / "main.tf"
    outputs = reference.root / "terraform" / "outputs.tf"
    main_text, outputs_text = main.read_text(), outputs.read_text()
    main.write_text(main_text.replace("publish = true", "publish = false"))
    outputs.write_text(outputs_text.replace("aws_lambda_function.this.version", '"1"'))
    try:
        result = reference.invoke("deploy")
    finally:
        main.write_text(main_text)
        outputs.write_text(outputs_text)

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "has 2 problems" in output
    assert re.search(r"\n1\. terraform/main\.tf:\d+: aws_lambda_function\.this sets "
                     r"publish = false\n   fix: ", output)
    assert re.search(r'\n2\. terraform/outputs\.tf:\d+: output "version" is "1"', output)
    assert "==> build" not in output
    assert not (reference.root / "build").exists()


def test_a_provider_pinning_another_region_is_flagged_before_anything_runs(reference):
    versions = reference.root / "terraform" / "versions.tf"
    text = versions.read_text()
    versions.write_text(text.replace('provider "aws" {}',
                                     'provider "aws" {\n  region = "eu-west-1"\n}'))
    try:
        result = reference.invoke("deploy")
    finally:
        versions.write_text(text)

    output = result.stdout + result.stderr
    line = text.splitlines().index('provider "aws" {}') + 2
    assert result.returncode == 2, output
    assert (f'1. terraform/versions.tf:{line}: provider "aws" pins region = "eu-west-1", '
            "but environment 'local' deploys to us-east-1") in output
    assert "==> build" not in output
    assert "started the local AWS" not in output
