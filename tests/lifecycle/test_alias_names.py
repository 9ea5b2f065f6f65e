"""Which alias a deploy moves: --alias, else the CI's branch variable, else git."""

from __future__ import annotations

import re
import subprocess

import pytest

from lambda_gate.aliases import alias_for_branch, resolve_alias, validate_alias
from lambda_gate.errors import ConfigError
from lambda_gate.git import BRANCH_VARIABLES, current_branch

LAMBDA_ALIAS = re.compile(r"(?![0-9]+\Z)[A-Za-z0-9_-]{1,128}")
HASHED = r"-[0-9a-f]{8}"

LONG = "feature/" + "a" * 192


@pytest.mark.parametrize(("branch", "alias"), [
    ("main", "main"),
    ("feature/ABC-123", "feature-ABC-123"),
    ("release/2024/q1", "release-2024-q1"),
    ("snake_case", "snake_case"),
])
def test_readable_branch_names_map_without_a_hash(branch, alias):
    assert alias_for_branch(branch) == alias


@pytest.mark.parametrize(("branch", "pattern"), [
    ("fix/café", r"fix-caf" + HASHED),
    ("ünïcödé", r"n-c-d" + HASHED),
    ("日本語", r"branch" + HASHED),
    ("feature//double", r"feature-double" + HASHED),
    ("feat.dots+plus", r"feat-dots-plus" + HASHED),
    ("-leading", r"leading" + HASHED),
    ("12345", r"12345" + HASHED),
    ("2024/10", r"2024-10"),
    (LONG, r"feature-a{111}" + HASHED),  # 128 characters
])
def test_other_names_keep_a_hash_of_the_branch(branch, pattern):
    assert re.fullmatch(pattern, alias_for_branch(branch))


@pytest.mark.parametrize("branch", [
    "x" * 200, "1" * 200, "7", "ü" * 200, "a/b/c/" * 40, "日本語", "////", "-", "__",
])
def test_every_mapped_name_is_one_lambda_accepts(branch):
    assert LAMBDA_ALIAS.fullmatch(alias_for_branch(branch))


@pytest.mark.parametrize(("one", "other"), [
    ("a" * 200, "a" * 199 + "b"),
    ("feature/" + "x" * 130, "feature/" + "x" * 131),
    ("fix/café", "fix/cafè"),
    ("12345", "branch-12345"),
    ("feature.x", "feature+x"),
])
def test_two_branches_never_share_an_alias(one, other):
    assert alias_for_branch(one) != alias_for_branch(other)


def test_an_empty_branch_name_is_an_error():
    with pytest.raises(ConfigError, match="the branch name is empty: pass --alias NAME"):
        alias_for_branch("  ")


@pytest.mark.parametrize("name", ["main", "feature-ABC-123", "a" * 128, "v2", "_"])
def test_valid_alias_names_pass_as_they_are(name):
    assert validate_alias(name) == name


@pytest.mark.parametrize("name", ["", "123", "feature/x", "a" * 129, "main\n", "café"])
def test_an_explicit_alias_lambda_refuses_is_a_clear_error(name):
    with pytest.raises(ConfigError, match="is not a valid alias name: Lambda allows 1 to 128"):
        validate_alias(name)


def test_an_invalid_explicit_alias_suggests_the_mapped_name():
    with pytest.raises(ConfigError, match="the alias would be 'feature-x'"):
        validate_alias("feature/x")


def test_the_explicit_alias_wins_over_the_branch(monkeypatch):
    monkeypatch.setenv("GIT_BRANCH", "feature/x")

    assert resolve_alias("hotfix") == "hotfix"


@pytest.mark.parametrize("variable", BRANCH_VARIABLES)
def test_each_ci_branch_variable_names_the_branch(variable):
    assert current_branch({variable: "feature/ABC-123"}) == "feature/ABC-123"


def test_ci_variables_are_consulted_in_order():
    environ = {"GITHUB_REF_NAME": "42/merge", "GITHUB_HEAD_REF": "feature/pr"}

    assert current_branch(environ) == "feature/pr"


@pytest.mark.parametrize("value", ["origin/feature/x", "refs/heads/feature/x"])
def test_remote_and_ref_prefixes_are_dropped(value):
    assert current_branch({"GIT_BRANCH": value}) == "feature/x"


def git(cwd, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q", "-b", "feature/from-git")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "first")
    return tmp_path


def test_without_ci_variables_git_names_the_branch(repo):
    assert current_branch({}, cwd=repo) == "feature/from-git"


def test_a_detached_head_without_ci_variables_is_a_clear_error(repo):
    git(repo, "checkout", "-q", "--detach")

    with pytest.raises(ConfigError, match="HEAD is detached .* pass --alias NAME"):
        current_branch({}, cwd=repo)


def test_a_ci_variable_names_the_branch_even_on_a_detached_head(repo):
    git(repo, "checkout", "-q", "--detach")

    assert current_branch({"CI_COMMIT_REF_NAME": "main"}, cwd=repo) == "main"
