"""Bad input, one row each: the message, the exit code, no traceback, AWS unchanged.

One project is deployed once; each row changes one thing (and puts it back), runs one
command through the real CLI, and compares what Lambda holds (read through boto3) with
what it held before.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from deploy_steps import versions_and_aliases

FUNCTION = "bad-input-table"
Undo = Callable[[], None]


def lambda_state(client) -> tuple:
    names = sorted(f["FunctionName"] for f in client.list_functions()["Functions"])
    return names, versions_and_aliases(client, FUNCTION)


@pytest.fixture(scope="module")
def project(make_project, lambda_client):
    made = make_project(FUNCTION)
    first = made.invoke("deploy")
    assert first.returncode == 0, first.stdout + first.stderr
    return made


def nothing(project) -> Undo:
    return lambda: None


def replacing(relative: str, text: str | bytes) -> Callable[[object], Undo]:
    """Write ``text`` to a project file, putting the old contents back afterwards."""

    def setup(project) -> Undo:
        path = project.root / relative
        old = path.read_bytes() if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

        def undo() -> None:
            if old is None:
                path.unlink()
            else:
                path.write_bytes(old)
        return undo

    return setup


def linking(relative: str, target: str) -> Callable[[object], Undo]:
    def setup(project) -> Undo:
        link = project.root / relative
        link.symlink_to(target)
        return link.unlink

    return setup


def non_utf8_name(project) -> Undo:
    path = os.path.join(os.fsencode(project.root / "src"), b"caf\xe9.txt")
    with open(path, "w") as f:
        f.write("x\n")
    return lambda: os.unlink(path)


def state_dir_under_a_file(project) -> Undo:
    (project.root / "not-a-dir").write_text("")
    return (project.root / "not-a-dir").unlink


@dataclass(frozen=True)
class Row:
    id: str
    args: tuple[str, ...]
    code: int
    message: str
    setup: Callable[[object], Undo] = nothing
    env: tuple[tuple[str, str], ...] = ()


LAST_APPLY = ".lambda-gate/env/local/last-apply.json"
STATE = ".lambda-gate/env/local/terraform.tfstate"

ROWS = [
    Row("empty-alias", ("deploy", "--alias", ""), 2, "'' is not a valid alias name"),
    Row("empty-alias-promote", ("promote", "--version", "1", "--alias", ""), 2,
        "'' is not a valid alias name"),
    Row("non-ascii-digit-version", ("promote", "--version", "\u0663", "--alias", "main"), 2,
        "--version '\u0663' is not a version number."),
    Row("non-ascii-digit-rollback", ("rollback", "--alias", "main", "--to", "\u0663"), 2,
        "--to '\u0663' is not a version number."),
    Row("unknown-runtime", ("deploy",), 2,
        "lambda_gate.function.runtime 'python3.99' is not a Lambda runtime",
        env=(("INVOKE_LAMBDA_GATE_FUNCTION_RUNTIME", "python3.99"),)),
    Row("bad-smoke-timeout", ("deploy",), 2,
        "lambda_gate.smoke.timeout must be a duration such as 900, 90s, 15m or 1h30m",
        env=(("INVOKE_LAMBDA_GATE_SMOKE_TIMEOUT", "a while"),)),
    Row("invoke-yaml-syntax", ("deploy",), 2, "invoke.yaml is not valid YAML (line 3",
        setup=replacing("invoke.yaml", "lambda_gate:\n  terraform: {vars: [\n")),
    Row("invoke-yaml-not-a-mapping", ("deploy",), 2,
        "invoke.yaml must be a mapping of settings (lambda_gate: ...), not a list.",
        setup=replacing("invoke.yaml", "- lambda_gate\n")),
    Row("truncated-last-apply-promote", ("promote", "--alias", "main"), 1,
        "last-apply.json is damaged (not what `invoke apply` writes)",
        setup=replacing(LAST_APPLY, '{"fingerprint": "ab')),
    Row("truncated-last-apply-smoke", ("smoke",), 1,
        "last-apply.json is damaged (not what `invoke apply` writes)",
        setup=replacing(LAST_APPLY, '{"outputs": ')),
    Row("build-cache-of-the-wrong-type", ("build",), 0, "build/lambda.zip",
        setup=replacing(".lambda-gate/build-cache/file-hashes.json", "[1, 2]")),
    Row("symlink-out-of-the-tree", ("deploy",), 1,
        "src/passwd is a symlink to /etc/passwd, outside the source tree",
        setup=linking("src/passwd", "/etc/passwd")),
    Row("non-utf8-file-name", ("deploy",), 1,
        "caf\\xe9.txt: the file name is not valid UTF-8; rename it",
        setup=non_utf8_name),
    Row("state-dir-not-writable", ("deploy",), 1, "error: cannot use ",
        setup=state_dir_under_a_file,
        env=(("INVOKE_LAMBDA_GATE_STATE_DIR", "not-a-dir/state"),)),
    Row("state-file-not-json", ("deploy", "--full"), 1,
        "terraform.tfstate is not JSON: restore it from its .backup file",
        setup=replacing(STATE, "{ truncated")),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_gets_one_message_its_exit_code_and_changes_nothing(row, project,
                                                                      lambda_client):
    before = lambda_state(lambda_client)
    undo = row.setup(project)
    try:
        result = project.invoke(*row.args, extra_env=dict(row.env))
    finally:
        undo()
    output = result.stdout + result.stderr

    assert result.returncode == row.code, output
    assert row.message in output
    assert "Traceback" not in output
    assert lambda_state(lambda_client) == before


def test_a_record_that_cannot_be_written_after_the_alias_moved_still_reports_the_move(
        project, lambda_client):
    """The truth about AWS comes first: the alias moved, so the deploy succeeded."""
    records = project.root / ".lambda-gate" / "env" / "local" / "records"
    app = project.root / "src" / "app.py"
    source = app.read_text()
    app.write_text(source + "\n# a change\n")
    kept = records.with_name("records-kept")
    shutil.move(records, kept)
    records.write_text("")  # a file where the directory should be
    try:
        result = project.invoke("deploy")
    finally:
        records.unlink()
        shutil.move(kept, records)
        app.write_text(source)
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert "the deploy record could not be written" in output
    assert "promoted main: 1 -> 2" in output
    assert "Traceback" not in output
    assert versions_and_aliases(lambda_client, FUNCTION)[1] == {"main": "2"}
    assert not list(records.glob("*-2-*.json"))
