"""The one wrapper around the terraform CLI.

It owns terraform's subprocess, output and errors: ``init`` only when the working
directory needs it, ``apply``/``plan`` with ``-input=false`` in the environment
:mod:`.tf_setup` prepares, progress streamed to the user (:mod:`.tf_output`: condensed
unless ``verbose``; the whole of it kept in ``log_dir``), and every unexpected non-zero
exit turned into a :class:`~lambda_gate.errors.TerraformError` carrying terraform's own
diagnostics. Outputs are read from the local state file when there is one, so a deploy
runs terraform once per apply and not again just to read three values.

Every command that locks the state waits ``lock_timeout`` for a lock another run holds;
while it waits, ``lock_watch`` (:mod:`.state_lock`) says who holds it, and stops the
wait when that run is gone. Not getting the lock is an error of its own
(:class:`~lambda_gate.errors.StateLocked`, or :class:`~lambda_gate.errors.StaleLock`),
as is a saved plan that another run's apply made stale (:class:`StalePlan`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..children import Child, format_seconds
from ..errors import ConfigError, Interrupted, StaleLock, StateLocked, TerraformError
from .lock_info import LOCK_ERROR, WAIT_LINE
from .outputs import DEFAULT_OUTPUTS, OutputNames, TerraformOutputs, outputs_from
from .provider_mirror import install_failure_hint
from .state_lock import LockWatch
from .tf_output import condensed, diagnostics, without_state_flag_warning
from .tf_setup import INSTALL_HINT, find_terraform, init_fingerprint, process_environment

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: terraform's error when a saved plan was made before another run changed the state.
_STALE_PLAN = "Saved plan is stale"


class StalePlan(TerraformError):
    """The saved plan was made from a state that another run has changed since (it
    applied between this run's plan and its apply); terraform applied nothing."""


@dataclass(frozen=True)
class PlanResult:
    changes: bool
    text: str
    #: Where the plan was saved (``plan(out=...)``), for :meth:`Terraform.apply_plan`.
    path: Path | None = None

    @property
    def destroys(self) -> int | None:
        """How many objects the plan destroys (a replacement counts), from its summary.

        ``None`` when the summary line is not there to read: then only the plan's JSON
        can tell.
        """
        if not self.changes:
            return 0
        found = _PLAN_SUMMARY.findall(_ANSI.sub("", self.text))
        return int(found[-1]) if found else None


_PLAN_SUMMARY = re.compile(r"^Plan: \d+ to add, \d+ to change, (\d+) to destroy", re.MULTILINE)


class Terraform:
    """terraform, run in one configuration directory for one environment.

    ``data_dir`` (``TF_DATA_DIR``) is per environment, so two environments never share
    providers, backend settings or workspaces. With ``state_path`` the state lives in
    that local file; with ``backend_config`` the configuration's backend is initialised
    with that file (for example an S3 backend with locking).
    """

    def __init__(
        self,
        config_dir: Path,
        *,
        data_dir: Path,
        binary: str = "terraform",
        env: Mapping[str, str] | None = None,
        plugin_dir: Path | None = None,
        state_path: Path | None = None,
        backend_config: Path | None = None,
        var_files: Sequence[Path] = (),
        color: bool = False,
        log: Callable[[str], None] = print,
        verbose: bool = True,
        log_dir: Path | None = None,
        timeout: float | None = None,
        lock_timeout: float | None = None,
        lock_watch: LockWatch | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.binary = binary
        self.plugin_dir = plugin_dir
        self.state_path = state_path
        self.backend_config = backend_config
        self.var_files = tuple(var_files)
        self.color = color
        self.log = log
        self.verbose = verbose
        self.log_dir = log_dir
        #: Seconds each terraform command may run before it is stopped (None: no limit).
        self.timeout = timeout
        #: Seconds a command waits for a state lock another run holds (None: terraform's
        #: own default, no wait); ``lock_watch`` says who holds it meanwhile.
        self.lock_timeout = lock_timeout
        self.lock_watch = lock_watch
        self._env = dict(env if env is not None else os.environ)
        #: Wall time spent in terraform's processes so far, so a deploy can tell its own
        #: overhead from terraform's.
        self.seconds = 0.0

    # -- the subprocess -------------------------------------------------------------

    def input_variables(self) -> dict[str, str]:
        """The ``TF_VAR_`` values terraform will see: part of what an apply depends on."""
        return {k: v for k, v in self._env.items() if k.startswith("TF_VAR_")}

    def environment(self) -> dict[str, str]:
        """The environment terraform's processes get (:func:`.tf_setup.process_environment`)."""
        return process_environment(self._env, self.data_dir, self.plugin_dir)

    def run(self, args: Sequence[str], *, stream: bool = True, what: str | None = None,
            ok_codes: Sequence[int] = (0,)) -> subprocess.CompletedProcess[str]:
        """Run ``terraform ARGS``; any exit code outside ``ok_codes`` is an error.

        Output is streamed line by line when ``stream`` is true (all of it when
        ``verbose``, else :func:`.tf_output.condensed`) and always kept, so an error can
        quote terraform's own diagnostics; with ``log_dir`` it is also written to
        ``terraform-<command>.log`` there, which an error names.
        """
        argv = [find_terraform(self.binary), *args]
        if not self.color:
            argv.append("-no-color")
        started = time.perf_counter()
        try:
            child = Child(argv, cwd=self.config_dir, env=self.environment(), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, errors="replace")
        except OSError as exc:
            raise TerraformError(f"could not run terraform: {exc}; {INSTALL_HINT}.") from None
        child.start_timeout(self.timeout)
        captured: list[str] = []
        shown = without_state_flag_warning(self.log if self.verbose
                                           else condensed(self.log))
        waited: dict[str, Any] = {}

        def on_line(line: str) -> None:
            captured.append(line)
            if stream:
                shown(line.rstrip("\n"))
            if WAIT_LINE in line and "since" not in waited:
                waited["since"] = time.perf_counter()
                waited["stale"] = self._lock_wait(child)
            elif ("since" in waited and "reported" not in waited
                  and _ANSI.sub("", line).strip("│╷╵ \n")):
                waited["reported"] = True
                if not waited["stale"] and LOCK_ERROR not in line:
                    self.log(f"got terraform's state lock after "
                             f"{format_seconds(time.perf_counter() - waited['since'])}")

        child.read(on_line)
        code = child.wait()
        self.seconds += time.perf_counter() - started
        output = "".join(captured)
        # show -json prints every value in the clear, the function's environment too.
        log_file = None if args[0] == "show" else self._keep_log(args[0], output)
        what = what or f"terraform {args[0]}"
        if waited.get("stale") and not child.interrupted:
            raise StaleLock(f"{what} stopped waiting: {waited['stale']}")
        if child.interrupted:
            raise Interrupted(f"{what} was interrupted; terraform stopped cleanly (exit "
                              f"{code}), keeping in its state what it had changed.")
        if child.timed_out:
            raise TerraformError(
                f"{what} timed out after {format_seconds(self.timeout or 0)} "
                "(lambda_gate.terraform.timeout) and was stopped; terraform kept in its "
                "state what it had changed. Run again, or raise the timeout.")
        if code not in ok_codes and LOCK_ERROR in output:
            raise self._lock_lost(what, output, exclude=(child.proc.pid,))
        if code not in ok_codes and _STALE_PLAN in output:
            raise StalePlan(self._explain(what, code, output, log_file))
        if code not in ok_codes:
            raise TerraformError(self._explain(what, code, output, log_file))
        return subprocess.CompletedProcess(argv, code, output, "")

    def _lock_wait(self, child: Child) -> str | None:
        """terraform waits for the state lock: say who holds it; when that run is gone,
        stop terraform (it releases nothing, it holds nothing) and return why."""
        if self.lock_watch is None:
            self.log("waiting for terraform's state lock, which another run holds")
            return None
        shown, stale = self.lock_watch.waiting(self.lock_timeout or 0.0,
                                               exclude=(child.proc.pid,))
        self.log(shown)
        if stale is not None:
            child.stop()
        return stale

    def _lock_lost(self, what: str, output: str, *,
                   exclude: Sequence[int]) -> StateLocked | StaleLock:
        if self.lock_watch is None:
            return StateLocked(f"{what}: another run holds terraform's state lock; nothing "
                               f"was applied:\n{diagnostics(output)}")
        error = self.lock_watch.lost(output, self.lock_timeout or 0.0, exclude=exclude)
        error.message = f"{what}: {error.message}"
        return error

    def _lock_args(self) -> list[str]:
        if self.lock_timeout is None:
            return []
        return [f"-lock-timeout={int(round(self.lock_timeout))}s"]

    def _keep_log(self, command: str, output: str) -> Path | None:
        """Write the run's whole output to ``log_dir`` (the last run of each command)."""
        if self.log_dir is None:
            return None
        path = self.log_dir / f"terraform-{command}.log"
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(output)
        except OSError:
            return None
        return path

    def _explain(self, what: str, code: int, output: str,
                 log_file: Path | None = None) -> str:
        diag = diagnostics(output)
        message = f"{what} failed (exit {code}):\n{diag}"
        hint = install_failure_hint(output, self.plugin_dir)
        if hint is not None:
            message += "\n\n" + hint
        if log_file is not None:
            message += f"\n\nterraform's full output: {log_file}"
        return message

    # -- init -------------------------------------------------------------------------

    def init_fingerprint(self) -> str:
        """What ``init`` depends on (:func:`.tf_setup.init_fingerprint`)."""
        return init_fingerprint(self.config_dir, self.backend_config, self.plugin_dir)

    def ensure_init(self) -> bool:
        """``terraform init`` unless this data dir was initialised for the same inputs.

        Returns whether init ran. A re-init re-hashes the whole provider, which costs
        more than a second, so it only runs when something it depends on changed.
        """
        marker = self.data_dir / "lambda-gate-init"
        if marker.is_file() and marker.read_text() == self.init_fingerprint():
            return False
        if self.backend_config is not None and not self.backend_config.is_file():
            raise ConfigError(
                f"backend config file {self.backend_config} does not exist: create it (see "
                "terraform/backend/s3.hcl.example in lambda-gate's reference configuration) "
                "or fix lambda_gate.environments.<name>.backend_config."
            )
        marker.unlink(missing_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = ["init", "-input=false"]
        if self.backend_config is not None:
            args += [f"-backend-config={self.backend_config}", "-reconfigure"]
        self.run(args, stream=False, what="terraform init")
        # After init: the first init writes the lock file, which is part of the inputs.
        marker.write_text(self.init_fingerprint())
        return True

    # -- plan, apply, outputs -----------------------------------------------------------

    def _common_args(self) -> list[str]:
        args = ["-input=false", *self._lock_args()]
        if self.state_path is not None:
            args.append(f"-state={self.state_path}")
        args += [f"-var-file={path}" for path in self.var_files]
        return args

    def apply(self) -> None:
        """``apply -auto-approve``: what terraform would do, without a plan to look at."""
        self.ensure_init()
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.run(["apply", "-auto-approve", *self._common_args()], what="terraform apply")

    def import_resource(self, address: str, resource_id: str) -> None:
        """``terraform import``: adopt a resource that exists into this state."""
        self.ensure_init()
        self.run(["import", *self._common_args(), address, resource_id],
                 what="terraform import")

    def plan(self, out: Path | None = None) -> PlanResult:
        """A plan, streamed; ``changes`` is true when it would change anything.

        With ``out`` the plan is saved there, for :meth:`show_plan` and
        :meth:`apply_plan`: what is applied is then exactly what was looked at.
        """
        self.ensure_init()
        args = ["plan", "-detailed-exitcode", *self._common_args()]
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            args.append(f"-out={out}")
        proc = self.run(args, what="terraform plan", ok_codes=(0, 2))
        return PlanResult(changes=proc.returncode == 2, text=proc.stdout, path=out)

    def show_plan(self, planfile: Path) -> dict:
        """``terraform show -json`` of a saved plan: every change, with its reasons."""
        proc = self.run(["show", "-json", str(planfile)], stream=False,
                        what="terraform show")
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                return json.loads(line)
        raise TerraformError(f"terraform show -json {planfile} printed no JSON:\n"
                             f"{diagnostics(proc.stdout)}")

    def apply_plan(self, planfile: Path) -> None:
        """Apply a saved plan: the changes it holds, and nothing else."""
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
        args = ["apply", "-input=false", *self._lock_args()]
        if self.state_path is not None:
            args.append(f"-state={self.state_path}")
        self.run([*args, str(planfile)], what="terraform apply")

    def force_unlock(self, lock_id: str) -> None:
        """``terraform force-unlock -force ID``: free a lock its holder left behind."""
        self.ensure_init()
        self.run(["force-unlock", "-force", lock_id], stream=False,
                 what="terraform force-unlock")

    def outputs(self, names: OutputNames = DEFAULT_OUTPUTS) -> TerraformOutputs:
        """The pipeline's outputs, from the local state file or ``terraform output``."""
        return outputs_from(self.raw_outputs(),
                            source=str(self.state_path or "terraform output"), names=names)

    def raw_outputs(self) -> Mapping[str, object]:
        """Every output's value, unchecked: from the local state file when there is one."""
        raw: Mapping[str, object]
        if self.state_path is not None and self.state_path.exists():
            state = json.loads(self.state_path.read_text())
            raw = {k: v.get("value") for k, v in (state.get("outputs") or {}).items()}
        else:
            args = ["output", "-json"]
            if self.state_path is not None:
                args.append(f"-state={self.state_path}")
            proc = self.run(args, stream=False, what="terraform output")
            raw = {k: v.get("value") for k, v in json.loads(proc.stdout or "{}").items()}
        return raw
