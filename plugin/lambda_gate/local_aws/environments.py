"""Execution environments as Lambda keeps them: started on first use, then reused.

An :class:`ExecutionEnvironment` is one bootstrap process (``bootstrap_python.py`` or
``bootstrap_node.js``) that has imported the function's code once and then answers
invocations one at a time, so module-level state and files in its temporary directory
persist between invocations, as on Lambda. :class:`Environments` keeps them per version
and configuration (:class:`Blueprint`): a request takes an idle one or starts a new one,
up to a cap; one that timed out, crashed or failed its init is discarded; idle ones are
stopped after a while. A new version, or a changed configuration of ``$LATEST``, never
reuses an older one's environment.

The channel to a bootstrap is a pair of pipes given to it as descriptors (JSON lines
both ways), so nothing the function prints or reads can disturb it; stdout and stderr
go to a log file whose new part after each answer is that invocation's log.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .api_errors import ApiFault
from .runtimes import Interpreter

#: Lambda gives a function's init phase ten seconds.
INIT_LIMIT_S = 10.0


@dataclass(frozen=True)
class EnvironmentSettings:
    """How the local AWS keeps environments; see README's local AWS section.

    ``interpreters`` maps a runtime to the executable that runs it; ``fresh`` starts a
    new environment for every invocation (no reuse, every invoke a cold start).
    """

    interpreters: dict[str, str] = field(default_factory=dict)
    fresh: bool = False
    max_environments: int = 16
    idle_seconds: float = 300.0


def settings_from_json(raw: dict) -> EnvironmentSettings:
    """Settings from the JSON the daemon and the settings endpoint carry."""
    if not isinstance(raw, dict):
        raise ValueError("settings must be a JSON object")
    interpreters = raw.get("interpreters") or {}
    if not isinstance(interpreters, dict):
        raise ValueError("interpreters must map runtimes to executables")
    defaults = EnvironmentSettings()
    return EnvironmentSettings(
        interpreters={str(k): str(v) for k, v in interpreters.items()},
        fresh=bool(raw.get("fresh", defaults.fresh)),
        max_environments=max(1, int(raw.get("max_environments", defaults.max_environments))),
        idle_seconds=float(raw.get("idle_seconds", defaults.idle_seconds)),
    )


@dataclass(frozen=True)
class Blueprint:
    """What an environment is made of; ``key`` says which environments it may reuse."""

    function_arn: str  # unqualified: reserved concurrency is counted per function
    version: str
    interpreter: Interpreter
    task_root: Path
    env: dict[str, str]
    init: dict  # the init message, less what each environment adds (its log stream)
    fingerprint: str  # code and configuration: a change means new environments
    reserved_concurrency: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.function_arn, self.version, self.fingerprint)


@dataclass(frozen=True)
class Outcome:
    """What one invocation produced.

    ``kind`` is ``"payload"``, ``"error"`` (the runtime reported an error, ``error`` is
    its payload), ``"init_error"``, ``"timeout"`` or ``"exit"`` (the process died
    without answering). ``init_ms`` is set on a cold start only; ``output`` is the log.
    """

    kind: str
    payload: str | None
    error: dict | None
    output: str
    duration_ms: float
    init_ms: float | None = None
    exit_code: int | None = None
    max_memory_mb: int | None = None
    environment_id: str = ""


class _Timeout(Exception):
    pass


class ExecutionEnvironment:
    """One bootstrap process and its channel; used by one invocation at a time."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.work = Path(tempfile.mkdtemp(prefix="lambda-gate-env-"))
        self.id = self.work.name.rsplit("-", 1)[-1]
        self.last_used = time.monotonic()
        self.started = False
        self.init_ms: float | None = None
        self._log_path = self.work / "log"
        self._buffer = bytearray()
        self._proc: subprocess.Popen | None = None
        self._requests = -1
        self._answers = -1

    # The process.

    def start(self) -> Outcome | None:
        """Start the process and run the init; None when it is ready for invocations."""
        self.started = True
        tmp = self.work / "tmp"
        tmp.mkdir()
        # Each environment has its own log stream, as on Lambda, and its own TMPDIR.
        stream = (f"{datetime.now(timezone.utc):%Y/%m/%d}/[{self.blueprint.version}]"
                  f"{uuid.uuid4().hex}")
        env = {**self.blueprint.env, "AWS_LAMBDA_LOG_STREAM_NAME": stream, "TMPDIR": str(tmp)}
        init = {**self.blueprint.init, "log_stream_name": stream}
        request_r, self._requests = os.pipe()
        self._answers, answer_w = os.pipe()
        started = time.monotonic()
        try:
            with open(self._log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    [*self.blueprint.interpreter.command(), str(request_r), str(answer_w)],
                    cwd=self.blueprint.task_root, env=env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, pass_fds=(request_r, answer_w),
                    start_new_session=True)
        finally:
            os.close(request_r)
            os.close(answer_w)
        deadline = started + INIT_LIMIT_S
        try:
            self._write(json.dumps({"init": init}))
            answer = self._read(deadline)
        except _Timeout:
            return self._failed("timeout", started)
        except OSError:
            answer = None
        if answer is None:
            return self._failed("exit", started)
        if "init_error" in answer:
            self._proc.wait()
            return Outcome("init_error", None, answer["init_error"], self._new_output(),
                           (time.monotonic() - started) * 1000,
                           init_ms=(time.monotonic() - started) * 1000,
                           environment_id=self.id)
        self.init_ms = (time.monotonic() - started) * 1000
        return None

    def invoke(self, message: str, timeout_s: float) -> Outcome:
        started = time.monotonic()
        try:
            self._write(message)
            answer = self._read(started + timeout_s)
        except _Timeout:
            return self._failed("timeout", started)
        except OSError:
            answer = None
        if answer is None:
            return self._failed("exit", started)
        self.last_used = time.monotonic()
        duration = (self.last_used - started) * 1000
        kind = "error" if "error" in answer else "payload"
        return Outcome(kind, answer.get("payload"), answer.get("error"), self._new_output(),
                       duration, max_memory_mb=self._max_memory_mb(), environment_id=self.id)

    def stop(self) -> None:
        """Kill the process and everything it started; remove its files."""
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._proc.wait()
        for fd in (self._requests, self._answers):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._requests = self._answers = -1
        shutil.rmtree(self.work, ignore_errors=True)

    # The channel.

    def _write(self, message: str) -> None:
        data = memoryview((message + "\n").encode("utf-8"))
        while data:
            data = data[os.write(self._requests, data):]

    def _read(self, deadline: float) -> dict | None:
        """The next answer, or None when the process closed the channel (it died)."""
        while (end := self._buffer.find(b"\n")) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            ready, _, _ = select.select([self._answers], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                return None
            self._buffer += chunk
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 1]
        return json.loads(line)

    def _failed(self, kind: str, started: float) -> Outcome:
        duration = (time.monotonic() - started) * 1000
        code = None
        if self._proc is not None:
            if kind == "timeout":
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            code = self._proc.wait()
        return Outcome(kind, None, None, self._new_output(), duration, exit_code=code,
                       environment_id=self.id)

    def _new_output(self) -> str:
        """What the process logged since the last call; the file is emptied after."""
        try:
            with open(self._log_path, "r+b") as log:
                data = log.read()
                log.truncate(0)  # the process appends (O_APPEND), so it writes at 0 next
        except OSError:
            return ""
        return data.decode("utf-8", errors="replace")

    def _max_memory_mb(self) -> int | None:
        try:
            status = Path(f"/proc/{self._proc.pid}/status").read_text()  # type: ignore[union-attr]
        except (OSError, AttributeError):
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return max(1, int(line.split()[1]) // 1024)
        return None


def _throttled(reason: str) -> ApiFault:
    return ApiFault(429, "TooManyRequestsException", "Rate Exceeded.", {"Reason": reason})


class Environments:
    """The warm environments of one local AWS, and the reaper that stops idle ones."""

    def __init__(self, settings: EnvironmentSettings | None = None) -> None:
        self.settings = settings or EnvironmentSettings()
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, str], list[ExecutionEnvironment]] = {}
        self._busy: list[ExecutionEnvironment] = []
        self._current: dict[tuple[str, str], str] = {}
        self._closed = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="lambda-gate-env-reaper",
                                        daemon=True)
        self._reaper.start()

    def configure(self, settings: EnvironmentSettings) -> None:
        """New settings; environments started under other interpreters are stopped."""
        changed = settings.interpreters != self.settings.interpreters
        self.settings = settings
        if changed:
            self.discard_all()

    def run(self, blueprint: Blueprint, invoke_message: str, timeout_s: float, *,
            fresh: bool = False) -> Outcome:
        """Run one invocation in a warm environment of ``blueprint``, or a new one."""
        fresh = fresh or self.settings.fresh
        env, stale = self._take(blueprint, fresh)
        for old in stale:
            old.stop()
        init_ms = None
        if not env.started:
            failed = env.start()
            if failed is not None:
                self._release(env, keep=False)
                return failed
            init_ms = env.init_ms
        outcome = env.invoke(invoke_message, timeout_s)
        keep = outcome.kind in ("payload", "error") and not fresh
        self._release(env, keep=keep)
        if init_ms is not None:
            outcome = Outcome(**{**outcome.__dict__, "init_ms": init_ms})
        return outcome

    def _take(self, blueprint: Blueprint, fresh: bool
              ) -> tuple[ExecutionEnvironment, list[ExecutionEnvironment]]:
        stale: list[ExecutionEnvironment] = []
        with self._lock:
            # $LATEST changed (code or configuration): its old environments go.
            slot = (blueprint.function_arn, blueprint.version)
            if self._current.get(slot) not in (None, blueprint.fingerprint):
                old_key = (*slot, self._current[slot])
                stale.extend(self._idle.pop(old_key, []))
            self._current[slot] = blueprint.fingerprint
            idle = self._idle.get(blueprint.key)
            if idle and not fresh:
                env = idle.pop()
                self._busy.append(env)
                return env, stale
            reserved = blueprint.reserved_concurrency
            if reserved is not None and sum(
                    e.blueprint.function_arn == blueprint.function_arn
                    for e in self._busy) >= reserved:
                raise _throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            total = len(self._busy) + sum(len(v) for v in self._idle.values()) - len(stale)
            if total >= self.settings.max_environments:
                oldest = self._oldest_idle()
                if oldest is None:
                    raise _throttled("ConcurrentInvocationLimitExceeded")
                stale.append(oldest)
            env = ExecutionEnvironment(blueprint)
            self._busy.append(env)
            return env, stale

    def _oldest_idle(self) -> ExecutionEnvironment | None:
        candidates = [(env.last_used, key, env) for key, envs in self._idle.items()
                      for env in envs]
        if not candidates:
            return None
        _, key, env = min(candidates, key=lambda c: c[0])
        self._idle[key].remove(env)
        return env

    def _release(self, env: ExecutionEnvironment, *, keep: bool) -> None:
        with self._lock:
            if env in self._busy:
                self._busy.remove(env)
            slot = (env.blueprint.function_arn, env.blueprint.version)
            keep = (keep and not self._closed.is_set()
                    and self._current.get(slot) == env.blueprint.fingerprint)
            if keep:
                env.last_used = time.monotonic()
                self._idle.setdefault(env.blueprint.key, []).append(env)
        if not keep:
            env.stop()

    def idle_count(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._idle.values())

    def discard_all(self) -> None:
        """Stop every idle environment (busy ones are stopped when they finish)."""
        with self._lock:
            idle = [env for envs in self._idle.values() for env in envs]
            self._idle.clear()
            self._current.clear()
        for env in idle:
            env.stop()

    def _reap(self) -> None:
        while not self._closed.wait(min(5.0, max(0.1, self.settings.idle_seconds / 4))):
            limit = time.monotonic() - self.settings.idle_seconds
            with self._lock:
                expired = [env for envs in self._idle.values() for env in envs
                           if env.last_used < limit]
                for env in expired:
                    self._idle[env.blueprint.key].remove(env)
            for env in expired:
                env.stop()

    def close(self) -> None:
        """Stop the reaper and every environment, busy or idle."""
        self._closed.set()
        with self._lock:
            everything = [env for envs in self._idle.values() for env in envs] + self._busy
            self._idle.clear()
        for env in everything:
            env.stop()
