"""Lambda's Invoke, served by running the chosen version's own code locally.

The qualifier picks what runs: a version number, an alias (honouring its weighted
RoutingConfig) or ``$LATEST`` (the default). The version's configuration and code come
from moto's backend in-process; the code runs in an execution environment of
:mod:`.environments`, a warm one when there is one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import random
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from .api_errors import ApiFault
from .code_cache import unpacked
from .environments import Blueprint, Environments, Outcome
from .provided_packages import python_runtime_dir
from .runtimes import (
    PYTHON_BOOTSTRAP,
    Interpreter,
    RuntimeUnavailable,
    find_interpreter,
    unsupported,
)

log = logging.getLogger("lambda_gate.local_aws.invoke")

#: Lambda's synchronous request and response payload quotas.
MAX_REQUEST_BYTES = 6291456
MAX_RESPONSE_BYTES = 6291556
LOG_TAIL_BYTES = 4096

_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]*:\d{12}:function:(?P<rest>.+)$")
_PARTIAL_ARN = re.compile(r"^\d{12}:function:(?P<rest>.+)$")


@dataclass(frozen=True)
class Target:
    """The version that will run and the ARN it was invoked by."""

    function: Any  # moto's LambdaFunction for the executed version (or $LATEST)
    executed_version: str
    invoked_arn: str
    reserved_concurrency: int | None = None  # the function's, kept on $LATEST


def split_name(name_or_arn: str, qualifier: str | None) -> tuple[str, str | None]:
    """Function name and qualifier from a name, ``name:qualifier``, or (partial) ARN."""
    match = _ARN.match(name_or_arn) or _PARTIAL_ARN.match(name_or_arn)
    rest = match.group("rest") if match else name_or_arn
    name, _, derived = rest.partition(":")
    if derived and qualifier and derived != qualifier:
        raise ApiFault(400, "InvalidParameterValueException",
                       "The derived qualifier from the function name does not match the "
                       "specified qualifier.")
    return name, (derived or qualifier or None)


def _not_found(backend: Any, name: str, qualifier: str | None) -> ApiFault:
    arn = f"arn:aws:lambda:{backend.region_name}:{backend.account_id}:function:{name}"
    return ApiFault(404, "ResourceNotFoundException",
                    f"Function not found: {arn}{':' + qualifier if qualifier else ''}")


def _versions(backend: Any, name: str) -> dict[str, Any]:
    group = backend._lambdas._functions.get(name)
    if group is None:
        return {}
    found = {str(fn.version): fn for fn in group["versions"]}
    if group["latest"] is not None:
        found["$LATEST"] = group["latest"]
    return found


def pick_version(primary: str, routing_config: dict | None, roll: float) -> str:
    """The version an alias sends one invocation to; ``roll`` is uniform in [0, 1)."""
    weights = (routing_config or {}).get("AdditionalVersionWeights") or {}
    for version, weight in weights.items():
        if roll < float(weight):
            return str(version)
    return primary


def resolve(backend: Any, name_or_arn: str, qualifier: str | None) -> Target:
    name, qualifier = split_name(name_or_arn, qualifier)
    versions = _versions(backend, name)
    if not versions:
        raise _not_found(backend, name, qualifier)
    base_arn = f"arn:aws:lambda:{backend.region_name}:{backend.account_id}:function:{name}"
    if qualifier is None or qualifier == "$LATEST":
        version = "$LATEST"
    elif qualifier.isdigit():
        version = qualifier
    else:
        alias = backend._lambdas._get_function_aliases(name).get(qualifier)
        if alias is None:
            raise _not_found(backend, name, qualifier)
        version = pick_version(str(alias.function_version), alias.routing_config,
                               random.random())
    if version not in versions:
        raise _not_found(backend, name, qualifier)
    invoked = f"{base_arn}:{qualifier}" if qualifier else base_arn
    reserved = getattr(versions.get("$LATEST"), "reserved_concurrency", None)
    return Target(versions[version], version, invoked,
                  int(reserved) if reserved is not None else None)


def environment(fn: Any, version: str, region: str, task_root: Path,
                endpoint_url: str | None, interpreter: Interpreter,
                runtime_dir: Path | None) -> dict[str, str]:
    """The process environment Lambda gives a function: its variables plus reserved ones.

    The function's own variables may override the unreserved defaults (PATH, LANG, TZ)
    but never the reserved ones, as on Lambda. Credentials are dummies and
    AWS_ENDPOINT_URL points back here, so SDK calls from the function stay local.
    Nothing of the host's environment reaches the function but PATH: no PYTHONPATH,
    NODE_PATH or HOME that would let it find the host's packages.
    """
    bin_dir = str(Path(interpreter.executable).parent)
    env = {"PATH": os.pathsep.join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin"]),
           "LANG": "en_US.UTF-8", "TZ": ":UTC"}
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    env.update({
        "_HANDLER": fn.handler or "",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir or PYTHON_BOOTSTRAP.parent),
    })
    return env


def blueprint(fn: Any, version: str, *, region: str, cache_dir: Path,
              endpoint_url: str | None, interpreters: dict[str, str],
              reserved_concurrency: int | None = None) -> Blueprint:
    """What an environment of this version is made of; raises for an unusable runtime."""
    if getattr(fn, "package_type", "Zip") != "Zip":
        raise unsupported(fn.run_time or "(image)", "container images do not run locally")
    interpreter = find_interpreter(fn.run_time, interpreters)
    task_root = unpacked(fn.code_bytes, fn.code_sha_256, cache_dir)
    runtime_dir = (python_runtime_dir(cache_dir) if interpreter.language == "python"
                   else None)
    env = environment(fn, version, region, task_root, endpoint_url, interpreter, runtime_dir)
    init = {
        "handler": fn.handler or "",
        "task_root": str(task_root),
        "runtime_path": [str(runtime_dir)] if runtime_dir else [],
        "function_name": fn.function_name,
        "function_version": version,
        "memory_limit_in_mb": fn.memory_size,
        "log_group_name": f"/aws/lambda/{fn.function_name}",
    }
    arn = fn.function_arn.split(":function:")[0] + f":function:{fn.function_name}"
    fingerprint = hashlib.sha256(json.dumps(
        [fn.code_sha_256, fn.run_time, fn.handler, sorted(env.items()), fn.timeout,
         fn.memory_size, fn.role, interpreter.executable], default=str).encode()).hexdigest()
    return Blueprint(arn, version, interpreter, task_root, env, init, fingerprint,
                     reserved_concurrency)


def _function_error(payload: dict, log_text: str, version: str, tail: bool) -> Response:
    return _answer(200, json.dumps(payload).encode(), log_text, version, tail,
                   function_error="Unhandled")


def _answer(status: int, body: bytes, log_text: str, version: str, tail: bool,
            function_error: str | None = None) -> Response:
    headers = {"X-Amz-Executed-Version": version}
    if function_error:
        headers["X-Amz-Function-Error"] = function_error
    if tail:
        tail_bytes = log_text.encode("utf-8")[-LOG_TAIL_BYTES:]
        headers["X-Amz-Log-Result"] = base64.b64encode(tail_bytes).decode("ascii")
    return Response(body, status=status, content_type="application/json", headers=headers)


def check_payload(body: bytes) -> bytes:
    """The event as JSON bytes (an empty body is ``{}``), or the error Lambda answers."""
    if len(body) > MAX_REQUEST_BYTES:
        raise ApiFault(413, "RequestTooLargeException",
                       f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the "
                       "InvokeFunction operation")
    if not body.strip():
        return b"{}"
    try:
        json.loads(body)
    except ValueError as exc:
        raise ApiFault(400, "InvalidRequestContentException",
                       f"Could not parse request body into json: {exc}") from None
    return body


def _broken_runtime(problem: RuntimeUnavailable, request_id: str) -> Outcome:
    """Lambda's answer when a runtime cannot start: a function error, logged too."""
    error = {"errorType": "Runtime.InvalidEntrypoint",
             "errorMessage": f"RequestId: {request_id} Error: {problem.message}"}
    return Outcome("init_error", None, error, f"[ERROR] {problem.message}\n", 0.0)


def _report(request_id: str, outcome: Outcome, memory_size: int) -> str:
    fields = [f"Duration: {outcome.duration_ms:.2f} ms",
              f"Billed Duration: {max(1, math.ceil(outcome.duration_ms))} ms",
              f"Memory Size: {memory_size} MB"]
    if outcome.max_memory_mb is not None:
        fields.append(f"Max Memory Used: {outcome.max_memory_mb} MB")
    if outcome.init_ms is not None:
        fields.append(f"Init Duration: {outcome.init_ms:.2f} ms")
    return f"REPORT RequestId: {request_id}\t" + "\t".join(fields) + "\t\n"


def _ended(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def execute(target: Target, event: bytes, *, region: str, cache_dir: Path,
            log_tail: bool, endpoint_url: str | None, environments: Environments,
            fresh: bool = False) -> Response:
    """Run ``target`` once with ``event`` and answer as Lambda's synchronous Invoke does."""
    fn = target.function
    version = target.executed_version
    request_id = str(uuid.uuid4())
    timeout_s = float(fn.timeout or 3)
    try:
        plan = blueprint(fn, version, region=region, cache_dir=cache_dir,
                         endpoint_url=endpoint_url,
                         interpreters=environments.settings.interpreters,
                         reserved_concurrency=target.reserved_concurrency)
    except RuntimeUnavailable as problem:
        outcome = _broken_runtime(problem, request_id)
    else:
        message = json.dumps({"invoke": {
            "request_id": request_id,
            "invoked_function_arn": target.invoked_arn,
            "deadline_ms": (datetime.now(timezone.utc).timestamp() + timeout_s) * 1000,
            "event": event.decode("utf-8"),
        }})
        outcome = environments.run(plan, message, timeout_s, fresh=fresh)
    lines = []
    if outcome.kind == "init_error":
        # The init ran before START; its output (the error, logged) comes first.
        lines.append(_ended(outcome.output))
        if outcome.init_ms is not None:
            error_type = (outcome.error or {}).get("errorType", "Runtime.Unknown")
            lines.append(f"INIT_REPORT Init Duration: {outcome.init_ms:.2f} ms\t"
                         f"Phase: init\tStatus: error\tError Type: {error_type}\n")
        lines.append(f"START RequestId: {request_id} Version: {version}\n")
    else:
        lines.append(f"START RequestId: {request_id} Version: {version}\n")
        lines.append(_ended(outcome.output))
    if outcome.kind == "timeout":
        lines.append(f"{datetime.now(timezone.utc).isoformat()} {request_id} Task timed out "
                     f"after {timeout_s:.2f} seconds\n")
    lines.append(f"END RequestId: {request_id}\n")
    lines.append(_report(request_id, outcome, fn.memory_size))
    log_text = "".join(lines)
    log.info("%s %s\n%s", fn.function_name, version, log_text.rstrip())
    if outcome.kind == "timeout":
        return _function_error({
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                            f"{timeout_s:.2f} seconds",
        }, log_text, version, log_tail)
    if outcome.kind == "exit":
        return _function_error({
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                            f"exit status {outcome.exit_code}",
        }, log_text, version, log_tail)
    if outcome.kind in ("error", "init_error"):
        return _function_error(outcome.error or {}, log_text, version, log_tail)
    payload = (outcome.payload or "null").encode("utf-8")
    if len(payload) > MAX_RESPONSE_BYTES:
        return _function_error({
            "errorMessage": "Response payload size exceeded maximum allowed payload size "
                            f"({MAX_RESPONSE_BYTES} bytes).",
            "errorType": "Function.ResponseSizeTooLarge",
        }, log_text, version, log_tail)
    return _answer(200, payload, log_text, version, log_tail)


def invoke(backend: Any, name_or_arn: str, qualifier: str | None, body: bytes, *,
           invocation_type: str, region: str, cache_dir: Path, log_tail: bool,
           endpoint_url: str | None, environments: Environments,
           fresh: bool = False) -> Response:
    """Serve one Invoke request: RequestResponse, Event (202, runs in a thread) or DryRun."""
    event = check_payload(body)
    target = resolve(backend, name_or_arn, qualifier)
    headers = {"X-Amz-Executed-Version": target.executed_version}
    if invocation_type == "DryRun":
        return Response(b"", status=204, headers=headers)
    if invocation_type == "Event":
        def run_detached() -> None:
            try:
                execute(target, event, region=region, cache_dir=cache_dir, log_tail=False,
                        endpoint_url=endpoint_url, environments=environments, fresh=fresh)
            except ApiFault as fault:
                log.warning("event invocation of %s failed: %s", target.invoked_arn, fault)
        threading.Thread(target=run_detached, daemon=True).start()
        return Response(b"", status=202, headers=headers)
    if invocation_type not in ("RequestResponse", ""):
        raise ApiFault(400, "InvalidParameterValueException",
                       f"Unsupported invocation type {invocation_type!r}: use "
                       "RequestResponse, Event or DryRun.")
    return execute(target, event, region=region, cache_dir=cache_dir, log_tail=log_tail,
                   endpoint_url=endpoint_url, environments=environments, fresh=fresh)
