"""Invoke the target version and describe what came back.

:class:`LambdaInvoker` is the object behind the ``lambda_invoke`` fixture, but it does
not need pytest: give it a boto3 Lambda client and a
:class:`~lambda_gate.pytest_plugin.target.LambdaTarget`.
Every call checks that the version Lambda says it executed is the target's, because a
smoke test that silently ran other code proves nothing.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..errors import LambdaApiError
from .target import LambdaTarget

#: Values shorter than this are not redacted from logs: "1" or "true" would mangle them.
MIN_REDACTED_LENGTH = 6
REDACTED = "[redacted]"

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")

#: The request header lambda-gate's local AWS reads to start a new execution environment.
FRESH_ENVIRONMENT_HEADER = "X-Lambda-Gate-Fresh-Environment"
_FRESH_ID = "lambda-gate-fresh-environment"


def _ask_fresh(request: Any, **_: Any) -> None:
    request.headers[FRESH_ENVIRONMENT_HEADER] = "1"


class WrongVersionExecuted(LambdaApiError):
    """Lambda ran a different version than the one under test."""


@dataclass(frozen=True)
class InvokeResult:
    """One invocation's outcome, as Lambda reported it.

    ``payload`` is the decoded JSON response (``None`` when the response is not JSON;
    ``raw`` always has the bytes). ``log_tail`` is the last 4 KB of the function's log
    when it was requested, with the function's environment values redacted.
    ``duration`` is the wall-clock time of the Invoke call, in seconds.
    """

    status_code: int
    function_error: str | None
    payload: Any
    raw: bytes
    log_tail: str
    executed_version: str | None
    duration: float

    @property
    def ok(self) -> bool:
        """Whether the function returned without an error."""
        return self.function_error is None and 200 <= self.status_code < 300


#: A credential printed with its name (``os.environ`` dumped, a boto3 debug log): the
#: execution role's keys that Lambda hands the function are in no configuration the
#: plugin can read, so they are recognised by the names they travel under.
_CREDENTIAL = re.compile(
    r"(?i)(aws_secret_access_key|aws_session_token|aws_security_token|secretaccesskey|"
    r"sessiontoken)([\"']?\s*[=:]\s*[\"']?)([A-Za-z0-9/+=]{8,})")


class Redactor:
    """Replaces secret values in text; its repr never shows them.

    The function's environment values given to it, and any AWS secret key or session
    token shown with its name.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values = sorted({v for v in values if len(v) >= MIN_REDACTED_LENGTH},
                              key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, REDACTED)
        return _CREDENTIAL.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} values)"


def _raise(message: str) -> NoReturn:
    raise WrongVersionExecuted(message)


def encode_payload(payload: Any = None, raw: bytes | None = None) -> bytes:
    """The request body: ``raw`` as given, else ``payload`` as JSON (``{}`` when None)."""
    if raw is not None:
        if payload is not None:
            raise TypeError("pass either payload or raw, not both")
        return bytes(raw)
    return json.dumps({} if payload is None else payload).encode("utf-8")


def decode_payload(raw: bytes) -> Any:
    """The JSON value of a response, or ``None`` when it is empty or not JSON."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None


@dataclass
class LambdaInvoker:
    """Calls the target version; ``lambda_invoke(payload)`` returns an :class:`InvokeResult`.

    ``fail`` is called with a message when Lambda executed another version (the plugin
    passes ``pytest.fail``; the default raises :class:`WrongVersionExecuted`). Every
    result is appended to ``history``, which the plugin uses to show log tails for a
    failed test. ``fresh_environment`` asks lambda-gate's local AWS for a new execution
    environment on every call (a header it reads; Lambda has no such request).
    """

    client: Any
    target: LambdaTarget
    fail: Callable[[str], NoReturn] = _raise
    redact: Callable[[str], str] = field(default_factory=Redactor)
    history: list[InvokeResult] = field(default_factory=list)
    fresh_environment: bool = False

    def __call__(self, payload: Any = None, *, log_tail: bool = True,
                 invocation_type: str = "RequestResponse",
                 raw: bytes | None = None) -> InvokeResult:
        """Invoke the target with ``payload`` (JSON-encoded) or ``raw`` bytes."""
        if invocation_type not in INVOCATION_TYPES:
            raise ValueError(f"invocation_type must be one of {', '.join(INVOCATION_TYPES)}")
        body = encode_payload(payload, raw)
        started = time.perf_counter()
        events = self.client.meta.events
        if self.fresh_environment:
            events.register("before-send.lambda.Invoke", _ask_fresh, unique_id=_FRESH_ID)
        try:
            response = self.client.invoke(
                FunctionName=self.target.function_name,
                Qualifier=self.target.qualifier,
                InvocationType=invocation_type,
                LogType="Tail" if log_tail else "None",
                Payload=body,
            )
        finally:
            if self.fresh_environment:
                events.unregister("before-send.lambda.Invoke", unique_id=_FRESH_ID)
        stream = response.get("Payload")
        data = stream.read() if stream is not None else b""
        duration = time.perf_counter() - started
        tail = response.get("LogResult")
        result = InvokeResult(
            status_code=int(response.get("StatusCode", 0)),
            function_error=response.get("FunctionError"),
            payload=decode_payload(data),
            raw=data,
            log_tail=self.redact(base64.b64decode(tail).decode("utf-8", "replace"))
            if tail else "",
            executed_version=response.get("ExecutedVersion"),
            duration=duration,
        )
        self.history.append(result)
        self._check_version(result, invocation_type)
        return result

    def _check_version(self, result: InvokeResult, invocation_type: str) -> None:
        executed = result.executed_version
        if executed == self.target.version or executed in self.target.routed_versions:
            return
        if executed is None and invocation_type != "RequestResponse":
            return  # asynchronous and dry-run invocations do not report a version
        said = f"version {executed!r}" if executed else "no version (X-Amz-Executed-Version)"
        self.fail(
            f"Lambda executed {said} of {self.target.function_name}, but the target is "
            f"version {self.target.version!r} ({self.target.qualified_arn}). "
            + ("The alias moved during the run; re-run against the version it points to."
               if self.target.alias else
               "The test result would not be evidence about the target version.")
        )
