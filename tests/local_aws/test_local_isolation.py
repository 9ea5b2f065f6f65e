"""A function sees its own package and what its runtime provides, never the host's."""

from __future__ import annotations

import importlib.util
import json
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_gate.local_aws.server import LocalAws

MakeFunction = Callable[..., str]

SYS_PATH_PY = """
import os, sys
def handler(event, context):
    return {"path": sys.path, "isolated": sys.flags.isolated, "no_site": sys.flags.no_site,
            "environ": sorted(os.environ)}
"""


def call(lambda_client, name: str, event: object = None) -> tuple[dict, object]:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event or {}))
    return response, json.loads(response["Payload"].read())


def code_cache(local_aws: LocalAws) -> Path:
    with urllib.request.urlopen(local_aws.url + "/_lambda_gate/instance") as response:
        return Path(json.loads(response.read())["code_cache"])


def test_a_package_without_requests_cannot_import_it_though_lambda_gate_has_it(
        lambda_client, make_function: MakeFunction) -> None:
    assert importlib.util.find_spec("requests") is not None  # lambda-gate's venv has it
    name = make_function({"app.py": "import requests\ndef handler(e, c):\n    return 1\n"})
    response, payload = call(lambda_client, name)
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == "Unable to import module 'app': No module named 'requests'"


def test_boto3_comes_from_the_runtime_directory_of_the_local_aws(
        lambda_client, local_aws: LocalAws, make_function: MakeFunction) -> None:
    name = make_function({"app.py": "import boto3, botocore\ndef handler(e, c):\n"
                                    "    return [boto3.__file__, boto3.__version__]\n"})
    _, (where, version) = call(lambda_client, name)
    assert Path(where).is_relative_to(code_cache(local_aws) / "python-runtime")
    import boto3

    assert version == boto3.__version__  # pinned to what lambda-gate installs


def test_sys_path_holds_the_package_the_runtime_libraries_and_the_standard_library(
        lambda_client, local_aws: LocalAws, make_function: MakeFunction) -> None:
    name = make_function({"app.py": SYS_PATH_PY})
    _, answer = call(lambda_client, name)
    path = answer["path"]
    assert Path(path[0], "app.py").is_file()  # the task root comes first
    assert Path(path[1]).is_relative_to(code_cache(local_aws) / "python-runtime")
    assert not any("site-packages" in entry for entry in path)
    if sys.prefix != sys.base_prefix:  # run from a virtualenv: none of it leaks in
        assert sys.prefix not in "".join(path[2:])
    assert (answer["isolated"], answer["no_site"]) == (1, 1)


def test_the_hosts_python_and_node_variables_do_not_reach_the_function(
        lambda_client, make_function: MakeFunction, monkeypatch, tmp_path) -> None:
    (tmp_path / "leaked.py").write_text("x = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("NODE_PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    name = make_function({"app.py": SYS_PATH_PY.replace("import os, sys",
                                                        "import os, sys\ntry:\n"
                                                        "    import leaked\nexcept ImportError:\n"
                                                        "    pass")})
    _, answer = call(lambda_client, name)
    assert not {"PYTHONPATH", "NODE_PATH", "HOME"} & set(answer["environ"])
    assert str(tmp_path) not in answer["path"]


NODE_REQUIRE = """
exports.handler = async () => {
  const found = {};
  for (const name of ["host-only", "bundled"]) {
    try { found[name] = require(name); } catch (err) { found[name] = err.code; }
  }
  try { await import("host-only"); found.esm = "imported"; } catch (err) { found.esm = err.code; }
  return found;
};
"""


def test_node_resolves_modules_only_inside_the_package(
        lambda_client, local_aws: LocalAws, make_function: MakeFunction) -> None:
    # The package is unpacked inside the code cache, so a node_modules there is "above"
    # the package, as a project's node_modules would be above .lambda-gate/code-cache.
    above = code_cache(local_aws) / "node_modules" / "host-only"
    above.mkdir(parents=True, exist_ok=True)
    (above / "index.js").write_text("module.exports = 'from the host';\n")
    name = make_function({"index.js": NODE_REQUIRE,
                          "node_modules/bundled/index.js": "module.exports = 'bundled';\n"},
                         runtime="nodejs20.x", handler="index.handler")
    _, found = call(lambda_client, name)
    assert found == {"host-only": "MODULE_NOT_FOUND", "bundled": "bundled",
                     "esm": "ERR_MODULE_NOT_FOUND"}


@pytest.mark.parametrize("runtime", ["python3.11", "nodejs20.x"])
def test_the_function_runs_under_its_runtimes_exact_version(
        lambda_client, make_function: MakeFunction, runtime: str) -> None:
    if runtime.startswith("python"):
        files = {"app.py": "import sys\ndef handler(e, c):\n"
                           "    return '%d.%d' % sys.version_info[:2]\n"}
        handler, expected = "app.handler", "3.11"
    else:
        files = {"index.js": "exports.handler = async () => process.versions.node"
                             ".split('.')[0];\n"}
        handler, expected = "index.handler", "20"
    name = make_function(files, runtime=runtime, handler=handler)
    assert call(lambda_client, name)[1] == expected
