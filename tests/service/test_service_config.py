"""lambda_gate.functions: each function under its key, inheriting the top-level settings."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from lambda_gate import config
from lambda_gate.errors import ConfigError
from lambda_gate.functions import select
from lambda_gate.settings import Settings


def load(tmp_path: Path, functions, **sections) -> Settings:
    raw = copy.deepcopy(config.DEFAULTS)
    for key, value in sections.items():
        raw[key].update(value)
    raw["functions"] = functions
    (tmp_path / "shared").mkdir(exist_ok=True)
    return config.load({"lambda_gate": raw}, root=tmp_path)


def test_without_functions_the_service_is_the_one_top_level_function(tmp_path):
    settings = load(tmp_path, {})

    assert not settings.is_unit
    (only,) = settings.functions
    assert only.key == "function"
    assert only.function == settings.function and only.build == settings.build
    assert only.smoke_path == settings.smoke_path


def test_each_function_inherits_what_it_does_not_set(tmp_path):
    settings = load(tmp_path, {"api": {"source_dir": "services/api"},
                               "worker": {"source_dir": "services/worker",
                                          "handler": "worker.handler",
                                          "build": {"exclude": "*.md"}}},
                    function={"runtime": "python3.12", "architecture": "arm64"},
                    build={"exclude": "tests"})

    api, worker = settings.functions
    assert settings.is_unit and (api.key, worker.key) == ("api", "worker")
    assert api.function.runtime == worker.function.runtime == "python3.12"
    assert api.build.architecture == worker.build.architecture == "arm64"
    assert api.function.handler == "app.handler" and worker.build.handler == "worker.handler"
    assert api.build.exclude == ("tests",) and worker.build.exclude == ("*.md",)
    assert api.build.source_dir == tmp_path / "services/api"


def test_each_function_has_its_own_artifact_cache_and_smoke_directory(tmp_path):
    settings = load(tmp_path, {"api": {"source_dir": "a"}, "worker": {"source_dir": "w"}})

    api, worker = settings.functions
    assert api.build.artifact == tmp_path / "build/api.zip"
    assert worker.build.artifact == tmp_path / "build/worker.zip"
    assert api.build.cache_dir != worker.build.cache_dir
    assert api.smoke_path == tmp_path / "smoke/api"
    assert worker.smoke_path == tmp_path / "smoke/worker"


def test_include_names_shared_directories(tmp_path):
    settings = load(tmp_path, {"api": {"source_dir": "a", "include": "shared"}})

    assert settings.functions[0].build.include == (tmp_path / "shared",)


def test_function_narrows_to_one_key(tmp_path):
    settings = load(tmp_path, {"api": {"source_dir": "a"}, "worker": {"source_dir": "w"}})

    assert [f.key for f in select(settings.functions, "worker")] == ["worker"]
    with pytest.raises(ConfigError, match=r"--function 'web' is not a configured function "
                                          r"\(configured: api, worker\)"):
        select(settings.functions, "web")


@pytest.mark.parametrize(("functions", "message"), [
    ({"API": {"source_dir": "a"}}, r"functions.API: the key 'API' must be 1 to 32 lowercase"),
    ({"function": {"source_dir": "a"}}, r"and not 'function'"),
    ({"api": {"handler": "app.handler"}}, r"functions.api.source_dir is not set"),
    ({"api": {"source_dir": "a", "memory": 1}}, r"functions.api: unknown setting 'memory'"),
    ({"api": {"source_dir": "a", "build": {"zip": "x"}}}, r"functions.api.build: unknown "),
    ({"api": {"source_dir": "a", "runtime": "go1.x"}}, r"functions.api.runtime 'go1.x' is "),
    ({"api": {"source_dir": "a", "include": "nowhere"}}, r"nowhere is not a directory"),
    ({"api": {"source_dir": "a", "build": {"artifact": "x.zip"}},
      "web": {"source_dir": "b", "build": {"artifact": "x.zip"}}}, r"the same artifact"),
    ("api", r"lambda_gate.functions must be a mapping"),
])
def test_a_bad_function_setting_is_named_by_its_path(tmp_path, functions, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, functions)
