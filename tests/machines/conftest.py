"""Many CI machines, one account: fresh clones deploying against shared S3 state.

A team's CI runs every job in a fresh clone, often at another path, with terraform's
state in an S3 bucket (locked with ``use_lockfile``) and nothing else carried between
jobs. These fixtures play that on the session's local AWS, whose S3 is moto's, so the
backend, its lock file and boto3 all see one bucket.

How to use them::

    @pytest.fixture(scope="module")
    def team(make_team):
        return make_team("my-function")          # one function, one state key

    def test_two_machines(team, lambda_client):
        a = team.make_machine("a")               # a fresh `git clone` at its own path
        b = team.make_machine("b")
        assert a.invoke("deploy", "--env", team.env).returncode == 0
        b.commit("src/app.py", "...")            # a code change, committed in b only
        racing = [m.popen("deploy", "--env", team.env) for m in (a, b)]
        results = [m.communicate(p) for m, p in zip((a, b), racing)]

- ``make_team(function, settings=..., files=...)`` makes a template repository (the
  example service: ``src``, ``smoke``, ``terraform``, ``tasks.py``, ``invoke.yaml``,
  committed on ``main``) whose terraform configuration declares ``backend "s3" {}``,
  and an environment ``ci`` (``team.env``) whose ``backend_config`` is
  ``terraform/backend/ci.s3.hcl``: the session's bucket, a state key of the team's
  own, ``use_lockfile = true``, path-style S3 at the local AWS; no alias is protected
  there. ``settings`` is extra
  YAML merged under ``lambda_gate`` (for example ``{"aliases": {"protected": ""}}``);
  ``files`` are extra files (``{"src/extra.py": "..."}``) committed to the template.
- ``team.make_machine(name)`` clones the template into a new directory at its own
  depth (so no two clones share a path, nor a path length). A machine carries nothing
  but the repository: no ``.lambda-gate``, no build cache.
- ``machine.invoke(*args)`` runs ``python -m invoke ...`` in the clone, like
  ``tests/conftest.py``'s ``Project``; ``machine.popen(*args)`` starts it in a process
  group of its own (for racing two machines, or a SIGINT at a known line), and
  ``machine.communicate(proc)`` waits for it with a bound.
- ``machine.commit(path, text)`` changes a file and commits it in that clone only;
  ``machine.git(...)`` runs any git command there (``checkout -b feature``).
- ``backend_settings(key)`` is the text of a backend file for another state key (an
  environment of one's own, as ``files={"terraform/backend/dev.s3.hcl": ...}``).
- ``team.state()`` is terraform's state as the bucket holds it (``None`` before the
  first apply); ``team.lock_key`` is the key of terraform's lock file while a run holds
  it; ``s3_client`` is a boto3 client of the bucket's S3.

The branch a machine deploys is its clone's git branch (``main``): CI branch variables
of the surrounding environment are removed. ``CI=true`` and ``NO_COLOR=1`` are set.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from faults.processes import interruptible

from lambda_gate.local_aws.server import LocalAws

REPO = Path(__file__).resolve().parents[2]
#: The backend settings the notes give for a local AWS; PORT is the session's.
BACKEND_TEMPLATE = Path("/work/shared/notes/s3-backend-local.hcl")
BUCKET = "team-tf-state"
RECORDS_BUCKET = "team-records"
ENV = "ci"
ROLE = "arn:aws:iam::123456789012:role/lambda-gate-ci"
BACKEND_FILE = "terraform/backend/ci.s3.hcl"
BRANCH_VARIABLES = ("GIT_BRANCH", "CIRCLE_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME",
                    "CI_COMMIT_REF_NAME", "BUILDKITE_BRANCH")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
                "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.invalid"}
#: Seconds a machine's invoke may take (a deploy is one terraform apply, ~10 s).
TIMEOUT = 300


def backend_config(endpoint: str, key: str) -> str:
    """The notes' S3 backend settings, pointed at ``endpoint`` and ``key``.

    Written out here when the notes file is absent, so the suite does not depend on a
    file outside the repository; the settings are the same.
    """
    if BACKEND_TEMPLATE.is_file():
        text = BACKEND_TEMPLATE.read_text()
    else:
        text = (
            f'bucket = "{BUCKET}"\nkey = "lambda/api-backend/ci.tfstate"\n'
            'region = "us-east-1"\nencrypt = true\nuse_lockfile = true\n'
            "use_path_style = true\n"
            'endpoints = {\n  s3       = "http://127.0.0.1:PORT"\n'
            '  dynamodb = "http://127.0.0.1:PORT"\n}\n'
            "skip_credentials_validation = true\nskip_requesting_account_id  = true\n"
            "skip_metadata_api_check     = true\nskip_region_validation      = true\n"
            'access_key = "test"\nsecret_key = "test"\n'
        )
    port = endpoint.rsplit(":", 1)[1].rstrip("/")
    lines = []
    for line in text.replace("PORT", port).splitlines():
        if line.strip().startswith("key "):
            line = f'key            = "{key}"'
        lines.append(line)
    return "\n".join(lines) + "\n"


def merged(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, text=True, capture_output=True,
                            env={**os.environ, **GIT_IDENTITY}, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} in {cwd}: {result.stderr}")
    return result.stdout


@dataclass
class Machine:
    """One CI machine: a fresh clone of the team's repository, and its environment."""

    name: str
    root: Path
    env: dict[str, str]

    def invoke(self, *args: str, extra_env: Mapping[str, str] | None = None,
               timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "invoke", *args], cwd=self.root, text=True,
            capture_output=True, env={**self.env, **(extra_env or {})}, timeout=timeout,
        )

    def popen(self, *args: str, extra_env: Mapping[str, str] | None = None
              ) -> subprocess.Popen[str]:
        """``invoke ARGS`` started in its own process group, output piped (merged)."""
        return subprocess.Popen(
            [sys.executable, "-m", "invoke", *args], cwd=self.root, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**self.env, **(extra_env or {})}, start_new_session=True,
            preexec_fn=interruptible,
        )

    def communicate(self, proc: subprocess.Popen[str], timeout: float = TIMEOUT
                    ) -> subprocess.CompletedProcess[str]:
        """Wait for a :meth:`popen` process; on timeout, kill its group and fail."""
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            raise AssertionError(f"machine {self.name}: {proc.args} did not end in "
                                 f"{timeout} s:\n{out}") from None
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")

    def run(self, script: str, extra_env: Mapping[str, str] | None = None,
            timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
        """A shell script in the clone, as a CI step runs one (``bash -eo pipefail``)."""
        return subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=self.root,
                              text=True, capture_output=True,
                              env={**self.env, **(extra_env or {})}, timeout=timeout)

    def git(self, *args: str) -> str:
        return git(self.root, *args)

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def commit(self, relative: str, text: str, message: str = "change") -> None:
        """Change a file and commit it in this clone only."""
        self.write(relative, text)
        self.git("add", relative)
        self.git("commit", "-q", "-m", message)


@dataclass
class Team:
    """One function deployed by many machines from one repository and one state key."""

    function: str
    template: Path
    state_key: str
    s3: Any
    workdir: Path
    env: str = ENV
    machines: dict[str, Machine] = field(default_factory=dict)

    @property
    def lock_key(self) -> str:
        """The key of terraform's lock file (``use_lockfile``) while a run holds it."""
        return f"{self.state_key}.tflock"

    def make_machine(self, name: str) -> Machine:
        """A fresh clone of the template at a path (and depth) no other machine has."""
        if name in self.machines:
            raise AssertionError(f"machine {name!r} exists already in team {self.function}")
        depth = len(self.machines) + 1
        parent = self.workdir / f"machine-{name}"
        for level in range(depth):
            parent = parent / f"d{level}"
        parent.mkdir(parents=True)
        root = parent / "repo"
        git(self.workdir, "clone", "-q", str(self.template), str(root))
        env = {k: v for k, v in os.environ.items() if k not in BRANCH_VARIABLES}
        env.update(CI="true", NO_COLOR="1", **GIT_IDENTITY)
        machine = Machine(name=name, root=root, env=env)
        self.machines[name] = machine
        return machine

    def commit_to_template(self, relative: str, text: str, message: str = "change") -> None:
        """Change the team's repository: machines cloned afterwards have the change."""
        path = self.template / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(self.template, "add", relative)
        git(self.template, "commit", "-q", "-m", message)

    def state(self) -> dict[str, Any] | None:
        """terraform's state as the bucket holds it, or ``None`` before any apply."""
        try:
            body = self.s3.get_object(Bucket=BUCKET, Key=self.state_key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)


@pytest.fixture(scope="session")
def s3_client(local_aws: LocalAws):
    return boto3.client("s3", endpoint_url=local_aws.url, region_name="us-east-1")


@pytest.fixture(scope="session")
def state_bucket(s3_client) -> str:
    """The team's state bucket (versioned, as S3 state buckets should be)."""
    s3_client.create_bucket(Bucket=BUCKET)
    s3_client.put_bucket_versioning(Bucket=BUCKET,
                                    VersioningConfiguration={"Status": "Enabled"})
    return BUCKET


@pytest.fixture(scope="session")
def backend_settings(local_aws: LocalAws):
    """``backend_settings(key)``: an S3 backend file's text for one more state key."""
    return lambda key: backend_config(local_aws.url, key)


@pytest.fixture(scope="session")
def records_bucket(s3_client) -> str:
    """A bucket for shared deploy records: ``records_url: s3://team-records/<prefix>/``."""
    s3_client.create_bucket(Bucket=RECORDS_BUCKET)
    return RECORDS_BUCKET


def team_settings(function: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    base = {
        "reports_dir": "reports",
        "terraform": {"vars": {"function_name": function}},
        # No alias is protected in ci unless a test says so: machines promote freely.
        "environments": {ENV: {"role_arn": ROLE, "backend_config": BACKEND_FILE,
                               "protected": ""}},
    }
    return {"lambda_gate": merged(base, extra)}


@pytest.fixture(scope="session")
def make_team(local_aws: LocalAws, terraform_binary: str, state_bucket: str, s3_client,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``make_team(function, settings=None, files=None)`` -> :class:`Team`."""
    made: set[str] = set()

    def make(function: str, settings: Mapping[str, Any] | None = None,
             files: Mapping[str, str] | None = None) -> Team:
        if function in made:
            raise AssertionError(f"team {function} exists already: use another name")
        made.add(function)
        workdir = tmp_path_factory.mktemp(f"team-{function}")
        template = workdir / "origin"
        for part in ("src", "smoke", "terraform"):
            shutil.copytree(REPO / part, template / part, ignore=shutil.ignore_patterns(
                ".terraform*", "__pycache__", "*.tfstate*"))
        shutil.copy(REPO / "tasks.py", template / "tasks.py")
        # One configuration for every environment: the shared state is in S3.
        (template / "terraform" / "backend.tf").write_text(
            'terraform {\n  backend "s3" {}\n}\n')
        key = f"lambda/{function}/{ENV}.tfstate"
        (template / BACKEND_FILE).write_text(backend_config(local_aws.url, key))
        (template / "invoke.yaml").write_text(
            yaml.safe_dump(team_settings(function, settings or {}), sort_keys=False))
        (template / ".gitignore").write_text(
            ".lambda-gate/\nbuild/\nreports/\n.terraform/\n__pycache__/\n")
        for relative, text in (files or {}).items():
            (template / relative).parent.mkdir(parents=True, exist_ok=True)
            (template / relative).write_text(text)
        git(workdir, "init", "-q", "-b", "main", str(template))
        git(template, "add", "-A")
        git(template, "commit", "-q", "-m", "the team's service")
        return Team(function=function, template=template, state_key=key, s3=s3_client,
                    workdir=workdir)

    yield make
