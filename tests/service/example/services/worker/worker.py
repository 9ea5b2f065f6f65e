"""The example service's queue worker: greets the name in each SQS record."""

from __future__ import annotations

import json
from typing import Any

import common


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    done = [f"{common.GREETING}, {json.loads(r['body'])['name']}!"
            for r in event.get("Records", [])]
    return {"processed": done, "version": common.version()}
