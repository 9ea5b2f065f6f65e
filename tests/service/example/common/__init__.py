"""Code both functions of the example service share: packaged into each one's zip."""

from __future__ import annotations

import os

#: Changing this changes both functions' packages, so both publish.
GREETING = "Hello"


def version() -> str:
    """The version of the function that runs this code, as Lambda reports it."""
    return os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "unknown")
