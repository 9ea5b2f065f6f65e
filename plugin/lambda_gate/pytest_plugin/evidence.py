"""Which tests invoked the version under test: the evidence the deploy gate asks for.

A passing suite says nothing about a function it never called (``assert True`` passes
against any code). So every Lambda Invoke made while a test runs is checked against the
target, through the plugin's own client (the fixtures) and through boto3's default
session (a test's own ``boto3.client("lambda")``); a test that invoked the target gets a
JUnit property the deploy reads back.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..handoff import INVOKED_PROPERTY
from .target import LambdaTarget

_INVOKE_OPERATIONS = ("Invoke", "InvokeWithResponseStream", "InvokeAsync")


def _name_and_qualifier(function: str, qualifier: str | None) -> tuple[str, str | None]:
    """A FunctionName parameter (name, ``name:q``, partial or full ARN) taken apart."""
    parts = function.split(":")
    if function.startswith("arn:"):
        name, rest = (parts[6] if len(parts) > 6 else ""), parts[7:]
    elif len(parts) >= 3 and parts[1] == "function":  # 123456789012:function:name[:q]
        name, rest = parts[2], parts[3:]
    else:
        name, rest = parts[0], parts[1:]
    return name, qualifier or (rest[0] if rest else None)


class Evidence:
    """Marks the running test when it invokes ``target``."""

    def __init__(self, target: LambdaTarget) -> None:
        self.target = target
        self.current: pytest.Item | None = None

    def invokes_target(self, params: dict[str, Any]) -> bool:
        name, qualifier = _name_and_qualifier(str(params.get("FunctionName", "")),
                                              params.get("Qualifier"))
        return name == self.target.function_name and qualifier in (
            self.target.version, self.target.alias or self.target.version)

    def _before_invoke(self, params: dict[str, Any], model: Any = None, **_: Any) -> None:
        item = self.current
        if item is None or getattr(model, "name", None) not in _INVOKE_OPERATIONS:
            return
        if self.invokes_target(params) and not any(
                name == INVOKED_PROPERTY for name, _value in item.user_properties):
            item.user_properties.append((INVOKED_PROPERTY, self.target.qualified_arn))

    def watch(self, events: Any) -> None:
        """Listen on a botocore event emitter (a client's, or a session's)."""
        events.register("before-parameter-build.lambda", self._before_invoke,
                        unique_id="lambda-gate-evidence")


def watch_default_session(evidence: Evidence) -> None:
    """Clients a test makes with ``boto3.client(...)`` come from boto3's default
    session; they copy its event handlers when made, so it is watched before any test."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    evidence.watch(boto3.DEFAULT_SESSION.events)
