"""This repository's tasks: lambda-gate's collection; settings are in invoke.yaml."""

from lambda_gate.tasks import ns  # noqa: F401
