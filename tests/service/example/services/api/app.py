"""The example service's HTTP API (API Gateway, payload format 2.0)."""

from __future__ import annotations

import json
from typing import Any

import common


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event.get("rawPath", "/")
    if path == "/health":
        body = {"status": "ok", "version": common.version()}
    elif path == "/greet":
        name = (event.get("queryStringParameters") or {}).get("name", "you")
        body = {"message": f"{common.GREETING}, {name}!"}
    else:
        return {"statusCode": 404, "body": json.dumps({"error": f"no route for {path}"})}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(body)}
