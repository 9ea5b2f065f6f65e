"""api-backend: the example service lambda-gate's Quick start deploys.

An API Gateway (HTTP API, payload format 2.0) proxy handler with two routes:

- ``GET /health`` reports the version of the function that answered, which is how a
  smoke test proves it reached the version under test and not an alias;
- ``POST /greet`` takes ``{"name": ...}`` and answers a greeting.
"""

from __future__ import annotations

import json
import os
from typing import Any


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def health(event: dict[str, Any]) -> dict[str, Any]:
    return _response(200, {
        "status": "ok",
        "version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "unknown"),
    })


def greet(event: dict[str, Any]) -> dict[str, Any]:
    try:
        payload = json.loads(event.get("body") or "{}")
    except ValueError:
        return _response(400, {"error": "body must be JSON"})
    name = payload.get("name") if isinstance(payload, dict) else None
    if not isinstance(name, str) or not name.strip():
        return _response(400, {"error": "name is required"})
    return _response(200, {"message": f"Hello, {name.strip()}!"})


ROUTES = {
    ("GET", "/health"): health,
    ("POST", "/greet"): greet,
}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    http = event.get("requestContext", {}).get("http", {})
    method = http.get("method") or event.get("httpMethod", "GET")
    path = event.get("rawPath") or event.get("path", "/")
    route = ROUTES.get((method.upper(), path))
    if route is None:
        return _response(404, {"error": f"no route for {method} {path}"})
    return route(event)
