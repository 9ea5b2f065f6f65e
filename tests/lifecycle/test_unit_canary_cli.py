"""A service's canary onto an alias one of its functions lacks, through the command line.

The project configures two functions (``lambda_gate.functions``) named in its
invoke.yaml and made with boto3, so no terraform apply is needed; ``--function KEY
--version N`` says which version to promote.
"""

from __future__ import annotations

import pytest

from lambda_gate import aliases


@pytest.fixture(scope="module")
def project(make_project):
    return make_project("unit-canary-cli")


@pytest.fixture
def worker(project, lambda_client, make_function):
    """The service's worker: version 1 published, no ``main`` alias yet."""
    api, worker = (make_function(prefix="unit-canary-cli"),
                   make_function(prefix="unit-canary-cli"))
    aliases.promote(lambda_client, api, "main", "1")
    project.write("invoke.yaml", "lambda_gate:\n  functions:\n"
                                 f"    api: {{source_dir: src, name: {api}}}\n"
                                 f"    worker: {{source_dir: src, name: {worker}}}\n")
    return worker


def test_a_canary_onto_an_alias_a_function_lacks_is_refused_before_any_write(
        project, lambda_client, worker):
    result = project.invoke("promote", "--function", "worker", "--version", "1", "--force",
                            "--canary", "10", "--interval", "0")

    assert result.returncode == 2
    assert (f"error: alias main does not exist yet on worker ({worker}), so a canary has no "
            "old version to keep its traffic on. Promote without --canary first (`invoke "
            "promote`), or pass --create-alias to create main there pointing wholly at the "
            "new version when the canary of the other functions has passed. Nothing was "
            "changed.") in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_alias(FunctionName=worker, Name="main")


def test_with_create_alias_the_function_s_alias_is_created_wholly_and_the_output_says_so(
        project, lambda_state, worker):
    result = project.invoke("promote", "--function", "worker", "--version", "1", "--force",
                            "--canary", "10", "--interval", "0", "--create-alias")

    assert result.returncode == 0, result.stderr
    assert ("promoted main as a unit: worker new -> 1 (no old version to shift traffic "
            "from)") in result.stdout
    assert lambda_state.alias(worker, "main") == ("1", {})
