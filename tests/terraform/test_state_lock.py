"""terraform's state lock as lambda-gate reads it: the lock info, where the lock lives,
whether its holder is gone, and what a run says about it. No terraform runs here, but
a real process holds a real OS lock, and a fake terraform is signalled for real.

The recorded texts are terraform 1.11's own: its JSON lock info (the S3 ``.tflock``
object and a local ``.lock.info`` file hold the same) and its "Error acquiring the
state lock".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from invoke import Config

from lambda_gate import config
from lambda_gate.errors import ConfigError, StaleLock, StateLocked
from lambda_gate.publish import apply
from lambda_gate.publish.lock_backends import LockPlace, local_lock_holder, lock_place
from lambda_gate.publish.lock_info import LockInfo, lock_info_from_error, parse_lock_info
from lambda_gate.publish.state_lock import (
    LockWatch,
    lost_message,
    stale_reason,
    terraform_processes,
)
from lambda_gate.publish.terraform import PlanResult, StalePlan, Terraform
from lambda_gate.report import Reporter
from lambda_gate.settings import Settings
from lambda_gate.tasks import ns

LOCK_JSON = ('{"ID":"803d6c76-2171-a6b6-512a-d69d53242277","Operation":"OperationTypeApply",'
             '"Info":"","Who":"root@ci-7","Version":"1.11.4",'
             '"Created":"2026-12-02T06:12:01.245252374Z",'
             '"Path":"team-tf-state/lambda/api/ci.tfstate"}')

LOCK_ERROR = """\

Error: Error acquiring the state lock

Error message: resource temporarily unavailable
Lock Info:
  ID:        11111111-2222-3333-4444-555555555555
  Path:      s.tfstate
  Operation: OperationTypeApply
  Who:       alice@build-7
  Version:   1.11.4
  Created:   2026-12-02 06:12:01.245252374 +0000 UTC
  Info:      \n

Terraform acquires a state lock to protect the state from being written
by multiple users at the same time. Please resolve the issue above and try
again. For most commands, you can disable locking with the "-lock=false"
flag, but this is not recommended.
"""

CREATED = datetime(2026, 12, 2, 6, 12, 1, 245252, tzinfo=timezone.utc)
S3 = LockPlace("s3", bucket="team-tf-state", key="lambda/api/ci.tfstate.tflock",
               endpoint="http://127.0.0.1:4750")


def backend(data_dir: Path, kind: str = "s3", **settings) -> Path:
    """A data directory as ``terraform init`` leaves it: the backend it was set up with."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "terraform.tfstate").write_text(json.dumps(
        {"version": 3, "backend": {"type": kind, "config": settings, "hash": 1}}))
    return data_dir


def test_terraforms_lock_info_says_who_when_and_what():
    info = parse_lock_info(LOCK_JSON)

    assert info == LockInfo(id="803d6c76-2171-a6b6-512a-d69d53242277",
                            operation="OperationTypeApply", who="root@ci-7",
                            created=CREATED, path="team-tf-state/lambda/api/ci.tfstate",
                            version="1.11.4")
    assert (info.user, info.host) == ("root", "ci-7")
    assert info.describe(CREATED + timedelta(minutes=3, seconds=4)) == (
        "held by root@ci-7 since 06:12:01 UTC (3m4s ago) for terraform apply "
        "(lock ID 803d6c76-2171-a6b6-512a-d69d53242277)")


def test_a_lock_from_another_day_shows_its_date():
    info = parse_lock_info(LOCK_JSON)

    assert "since 2026-12-02 06:12:01 UTC (18h ago)" in info.describe(
        datetime(2026, 12, 3, 0, 12, 1, 245252, tzinfo=timezone.utc))


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"Who": "root@ci-7"}'])
def test_anything_else_is_no_lock_info(text):
    assert parse_lock_info(text) is None


def test_the_lock_info_of_terraforms_error_is_read_too():
    info = lock_info_from_error(LOCK_ERROR)

    assert info == LockInfo(id="11111111-2222-3333-4444-555555555555",
                            operation="OperationTypeApply", who="alice@build-7",
                            created=datetime(2026, 12, 2, 6, 12, 1, 245252,
                                             tzinfo=timezone.utc),
                            path="s.tfstate", version="1.11.4")
    assert lock_info_from_error("Error: Saved plan is stale") is None


def test_an_s3_backend_with_use_lockfile_locks_with_an_object_beside_the_state(tmp_path):
    data_dir = backend(tmp_path / "tf-data", bucket="team-tf-state",
                       key="lambda/api/ci.tfstate", region="eu-west-1", use_lockfile=True,
                       use_path_style=True, access_key="AKIA", secret_key="s3cr3t",
                       endpoints={"s3": "http://127.0.0.1:4750", "dynamodb": None})

    place = lock_place(data_dir, None, {})

    assert (place.kind, place.bucket, place.key) == (
        "s3", "team-tf-state", "lambda/api/ci.tfstate.tflock")
    assert (place.region, place.endpoint, place.path_style) == (
        "eu-west-1", "http://127.0.0.1:4750", True)
    assert place.credentials == ("AKIA", "s3cr3t", None)
    assert place.where == "s3://team-tf-state/lambda/api/ci.tfstate.tflock"
    assert "s3cr3t" not in repr(place)


def test_without_its_own_endpoint_and_region_the_backend_uses_terraforms_environment(
        tmp_path):
    data_dir = backend(tmp_path / "tf-data", bucket="b", key="k", use_lockfile=True)

    place = lock_place(data_dir, None, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9",
                                        "AWS_REGION": "us-east-2"})

    assert (place.endpoint, place.region, place.credentials) == (
        "http://127.0.0.1:9", "us-east-2", None)


def test_a_dynamodb_lock_is_the_item_of_bucket_and_key(tmp_path):
    data_dir = backend(tmp_path / "tf-data", bucket="b", key="lambda/api.tfstate",
                       dynamodb_table="terraform-locks")

    place = lock_place(data_dir, None, {})

    assert (place.kind, place.table, place.key) == (
        "dynamodb", "terraform-locks", "b/lambda/api.tfstate")


def test_no_lock_to_read_without_locking_or_before_init(tmp_path):
    unlocked = backend(tmp_path / "unlocked", bucket="b", key="k")

    assert lock_place(unlocked, None, {}) is None
    assert lock_place(tmp_path / "never-initialised", None, {}) is None
    assert lock_place(backend(tmp_path / "gcs", "gcs", bucket="b"), None, {}) is None


def test_a_local_state_keeps_its_lock_info_beside_it(tmp_path):
    place = lock_place(tmp_path / "tf-data", tmp_path / "terraform.tfstate", {})

    assert place.kind == "local"
    assert place.info_file == tmp_path / ".terraform.tfstate.lock.info"


@pytest.fixture
def locked_state(tmp_path):
    """A local state file with an OS lock held by another process, as terraform holds it."""
    state = tmp_path / "terraform.tfstate"
    state.write_text("{}")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys\n"
         f"f = open({str(state)!r}, 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\nsys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    yield state, holder.pid
    holder.stdin.close()
    holder.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="Linux's table of locks")
def test_a_local_states_lock_holder_is_the_process_with_the_os_lock(locked_state):
    state, pid = locked_state
    (state.parent / ".terraform.tfstate.lock.info").write_text(LOCK_JSON)

    assert local_lock_holder(state) == pid
    info = LockWatch(state.parent, state, {}, "local", clock=lambda: NOW).waiting(300.0)[0]
    assert f"held by root@ci-7 (pid {pid}) since 06:12:01 UTC" in info


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="Linux's table of locks")
def test_a_lock_info_file_without_the_os_lock_is_no_lock(tmp_path):
    state = tmp_path / "terraform.tfstate"
    state.write_text("{}")
    (tmp_path / ".terraform.tfstate.lock.info").write_text(LOCK_JSON)  # a killed run's

    assert local_lock_holder(state) is None


def fake_proc(root: Path, pid: int, exe: str, cwd: Path, env: dict[str, str]) -> None:
    entry = root / str(pid)
    entry.mkdir(parents=True)
    (entry / "exe").symlink_to(exe)
    (entry / "cwd").symlink_to(cwd)
    (entry / "environ").write_bytes(b"\0".join(f"{k}={v}".encode() for k, v in env.items()))


def test_terraform_processes_using_the_same_state_are_found_by_their_data_dir(tmp_path):
    proc = tmp_path / "proc"
    same = backend(tmp_path / "clone-a" / "tf-data", bucket="team-tf-state",
                   key="lambda/api/ci.tfstate", use_lockfile=True,
                   endpoints={"s3": "http://127.0.0.1:4750"})
    other = backend(tmp_path / "clone-b" / ".terraform", bucket="team-tf-state",
                    key="lambda/other/ci.tfstate", use_lockfile=True,
                    endpoints={"s3": "http://127.0.0.1:4750"})
    fake_proc(proc, 101, "/usr/bin/terraform", tmp_path, {"TF_DATA_DIR": str(same)})
    fake_proc(proc, 102, "/usr/bin/terraform", other.parent, {})  # ./.terraform
    fake_proc(proc, 103, "/opt/plugins/terraform-provider-aws_v5", tmp_path,
              {"TF_DATA_DIR": str(same)})
    fake_proc(proc, 104, "/usr/bin/terraform", tmp_path, {"TF_DATA_DIR": str(same)})

    assert terraform_processes(S3, exclude=[104], proc=proc) == [101]
    assert terraform_processes(S3, proc=tmp_path / "no-proc") is None


NOW = CREATED + timedelta(minutes=3)
INFO = parse_lock_info(LOCK_JSON)


def test_a_lock_taken_here_by_a_terraform_that_is_gone_is_stale():
    reason = stale_reason(INFO, S3, now=NOW, stale_after=900, running=lambda: [],
                          host="ci-7", user="root")

    assert reason == ("it was taken on this host (ci-7), and no terraform process here "
                      "uses this state any more: the run that took it ended without "
                      "releasing it (killed)")


def test_a_lock_taken_here_by_a_running_terraform_is_not_stale_however_old():
    assert stale_reason(INFO, S3, now=NOW + timedelta(hours=5), stale_after=900,
                        running=lambda: [4242], host="ci-7", user="root") is None


def test_a_lock_from_another_host_is_stale_only_past_the_threshold():
    def judged(age: timedelta, stale_after: float | None = 900) -> str | None:
        return stale_reason(INFO, S3, now=CREATED + age, stale_after=stale_after,
                            running=lambda: [], host="laptop", user="root")

    assert judged(timedelta(minutes=14)) is None
    assert judged(timedelta(minutes=16)) == (
        "it is 16m old, older than lambda_gate.terraform.stale_lock_after (15m): the run "
        "on ci-7 that took it most likely ended without releasing it (check that it is "
        "not still running before freeing the lock)")
    assert judged(timedelta(days=3), stale_after=None) is None


def test_a_local_states_lock_is_never_stale():
    local = LockPlace("local", state=Path("/x/terraform.tfstate"))

    assert stale_reason(INFO, local, now=NOW + timedelta(days=1), stale_after=900,
                        running=lambda: [], host="ci-7", user="root") is None


def test_a_lost_race_says_who_won_and_that_nothing_was_published():
    assert lost_message(INFO, S3, timeout=300.0, now=NOW) == (
        "another run holds terraform's state lock "
        "(s3://team-tf-state/lambda/api/ci.tfstate.tflock), held by root@ci-7 since "
        "06:12:01 UTC (3m ago) for terraform apply (lock ID "
        "803d6c76-2171-a6b6-512a-d69d53242277); this run gave up after waiting 5m "
        "(lambda_gate.terraform.lock_timeout). Nothing was applied and nothing published: "
        "run again once the other run is done (a longer lambda_gate.terraform.lock_timeout "
        "waits for it).")


def test_a_local_lock_lost_is_a_lost_race_read_from_terraforms_error(tmp_path):
    watch = LockWatch(tmp_path, tmp_path / "s.tfstate", {}, "local",
                      clock=lambda: NOW)

    error = watch.lost(LOCK_ERROR, 0.0)

    assert isinstance(error, StateLocked) and error.exit_code == 4
    assert "held by alice@build-7 since 06:12:01 UTC" in error.message
    assert "without waiting (lambda_gate.terraform.lock_timeout is 0s)" in error.message


# -- the terraform wrapper ----------------------------------------------------------------

def fake_terraform(tmp_path: Path, script: str) -> Path:
    """An executable standing in for terraform: ``init`` succeeds, everything else runs
    ``script`` (bash), and each command line is written to ``argv.log``."""
    path = tmp_path / "bin" / "terraform"
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/bash\n"
                    f'echo "$@" >> {tmp_path / "argv.log"}\n'
                    'if [ "$1" = init ]; then exit 0; fi\n' + script)
    path.chmod(0o755)
    return path


def wrapper(tmp_path: Path, binary: Path, **kwargs) -> Terraform:
    lines: list[str] = []
    tf = Terraform(tmp_path, data_dir=tmp_path / "data", binary=str(binary),
                   log=lines.append, verbose=False, **kwargs)
    tf.lines = lines  # type: ignore[attr-defined]
    return tf


def test_plan_and_apply_wait_lock_timeout_for_the_state_lock(tmp_path):
    tf = wrapper(tmp_path, fake_terraform(tmp_path, "exit 0\n"), lock_timeout=300.0)

    tf.plan(out=tmp_path / "p.tfplan")
    tf.apply_plan(tmp_path / "p.tfplan")
    tf.import_resource("aws_lambda_function.this", "fn")

    commands = (tmp_path / "argv.log").read_text().splitlines()
    assert [c.split()[0] for c in commands] == ["init", "plan", "apply", "import"]
    assert all("-lock-timeout=300s" in c for c in commands[1:])


class Watch:
    """A lock watch that finds the holder gone."""

    def __init__(self) -> None:
        self.asked: list[tuple[float, tuple[int, ...]]] = []

    def waiting(self, timeout, *, exclude=()):
        self.asked.append((timeout, tuple(exclude)))
        return "waiting up to 5m for terraform's state lock, held by root@ci-7", "gone"


def test_a_wait_for_a_lock_whose_holder_is_gone_stops_terraform(tmp_path):
    # terraform waits for the lock until it is interrupted, then reports the lock error.
    script = (f'echo "{"Acquiring state lock. This may take a few moments..."}"\n'
              'trap \'echo; echo "Error: Error acquiring the state lock"; exit 1\' INT\n'
              "while true; do sleep 0.05; done\n")
    watch = Watch()
    tf = wrapper(tmp_path, fake_terraform(tmp_path, script), lock_timeout=300.0,
                 lock_watch=watch, timeout=120)

    with pytest.raises(StaleLock) as raised:
        tf.plan()

    assert raised.value.exit_code == 5
    assert raised.value.message == "terraform plan stopped waiting: gone"
    assert tf.lines == ["waiting up to 5m for terraform's state lock, held by root@ci-7"]
    assert watch.asked[0][0] == 300.0 and len(watch.asked[0][1]) == 1  # its own pid


def test_a_lock_not_got_is_a_lost_race(tmp_path):
    script = f"cat <<'EOF'\n{LOCK_ERROR}EOF\nexit 1\n"
    tf = wrapper(tmp_path, fake_terraform(tmp_path, script), lock_timeout=0.0,
                 lock_watch=LockWatch(tmp_path, tmp_path / "s.tfstate", {}, "local"))

    with pytest.raises(StateLocked) as raised:
        tf.plan()

    assert raised.value.exit_code == 4
    assert raised.value.message.startswith(
        "terraform plan: another run holds terraform's state lock")


class StaleOnce:
    """terraform whose first saved plan is made stale by another run's apply."""

    def __init__(self, tmp_path: Path) -> None:
        self.data_dir = tmp_path
        self.calls: list[str] = []

    def plan(self, out=None):
        self.calls.append("plan")
        return PlanResult(True, "Plan: 0 to add, 1 to change, 0 to destroy.", out)

    def apply_plan(self, planfile):
        self.calls.append("apply")
        if self.calls.count("apply") == 1:
            raise StalePlan("terraform apply failed (exit 1):\nError: Saved plan is stale")


def test_a_plan_made_stale_by_another_runs_apply_is_made_again(tmp_path, capsys):
    settings = config.load(Config(defaults=ns.configuration()), root=tmp_path)
    tf = StaleOnce(tmp_path)

    assert apply.guarded_apply(settings, tf, Reporter()) is True

    assert tf.calls == ["plan", "apply", "plan", "apply"]
    assert ("another run applied to this state after the plan was made: planning again "
            "from the state it left") in capsys.readouterr().out


# -- settings ------------------------------------------------------------------------------

def settings_with(tmp_path: Path, **terraform) -> Settings:
    cfg = Config(defaults=ns.configuration(),
                 overrides={"lambda_gate": {"terraform": terraform}})
    return config.load(cfg, root=tmp_path)


def test_the_lock_wait_is_five_minutes_unless_set(tmp_path):
    assert settings_with(tmp_path).terraform.lock_timeout == 300.0
    assert settings_with(tmp_path, lock_timeout="90s").terraform.lock_timeout == 90.0
    assert settings_with(tmp_path, lock_timeout="0s").terraform.lock_timeout == 0.0
    assert settings_with(tmp_path).terraform.stale_lock_after == 900.0
    assert settings_with(tmp_path, stale_lock_after=0).terraform.stale_lock_after is None


def test_a_bad_lock_timeout_says_what_a_duration_is(tmp_path):
    with pytest.raises(ConfigError) as raised:
        settings_with(tmp_path, lock_timeout="soon")

    assert raised.value.message == (
        "lambda_gate.terraform.lock_timeout must be a duration such as 900, 90s, 15m or "
        "1h30m (0s not to wait), got 'soon'.")


def test_os_lock_table_lines_for_waiters_are_not_holders(tmp_path):
    state = tmp_path / "terraform.tfstate"
    state.write_text("{}")
    stat = state.stat()
    where = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    table = tmp_path / "locks"
    table.write_text(f"1: POSIX  ADVISORY  WRITE 4242 {where} 0 EOF\n"
                     f"1: -> POSIX  ADVISORY  WRITE 4343 {where} 0 EOF\n")

    assert local_lock_holder(state, locks=table) == 4242
    table.write_text(f"1: -> POSIX  ADVISORY  WRITE 4343 {where} 0 EOF\n")
    assert local_lock_holder(state, locks=table) is None
