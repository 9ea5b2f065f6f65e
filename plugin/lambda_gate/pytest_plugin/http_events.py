"""API Gateway proxy events (payload formats 2.0 and 1.0) built from an HTTP request.

The request side of :mod:`.http_session`: what API Gateway hands a function for a
method, URL, headers and body, with routes and their path parameters.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_BASE_URL = "http://lambda"
EVENT_FORMATS = ("v2", "v1")

_TEXT_TYPES = re.compile(
    r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded|[\w.+-]+\+(json|xml)))",
    re.IGNORECASE,
)
@dataclass(frozen=True)
class Route:
    """An API Gateway route such as ``GET /items/{id}`` or ``/files/{path+}``.

    Without a method it matches any (``ANY``). A request that does not match gets
    API Gateway's 404 without invoking the function.
    """

    method: str
    template: str

    @classmethod
    def parse(cls, text: str) -> Route:
        method, _, template = text.strip().rpartition(" ")
        if not template.startswith("/"):
            raise ValueError(
                f"route {text!r} must look like 'GET /items/{{id}}' or '/items/{{id}}'")
        return cls(method.upper() or "ANY", template)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when the route matches, else ``None``."""
        if self.method not in ("ANY", method.upper()):
            return None
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", self.template):
            if part.startswith("{") and part.endswith("+}"):
                pattern += f"(?P<{_group(part[1:-2])}>.+)"
            elif part.startswith("{"):
                pattern += f"(?P<{_group(part[1:-1])}>[^/]+)"
            else:
                pattern += re.escape(part)
        found = re.fullmatch(pattern, path)
        if found is None:
            return None
        names = re.findall(r"\{([^}+]+)\+?\}", self.template)
        return {name: unquote(found[_group(name)]) for name in names}


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


def _is_text(content_type: str | None) -> bool:
    return content_type is None or bool(_TEXT_TYPES.match(content_type.strip()))


def encode_body(body: bytes | None, content_type: str | None) -> tuple[str | None, bool]:
    """The event's ``body`` and ``isBase64Encoded`` for a request body.

    Text (a textual or missing content type, valid UTF-8) travels as is; anything else
    is base64-encoded, as API Gateway does for binary payloads.
    """
    if not body:
        return None, False
    if _is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _query(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def _request_context(method: str, account_id: str, host: str, user_agent: str) -> dict[str, Any]:
    now = time.time()
    return {
        "accountId": account_id,
        "apiId": "lambdagate",
        "domainName": host,
        "domainPrefix": host.split(".")[0],
        "requestId": str(uuid.uuid4()),
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
        "sourceIp": "127.0.0.1",
        "userAgent": user_agent,
        "method": method,
    }


def build_event(method: str, url: str, headers: Mapping[str, str], body: bytes | None, *,
                event_format: str = "v2", route: Route | None = None,
                path_parameters: Mapping[str, str] | None = None,
                account_id: str = "123456789012") -> dict[str, Any]:
    """The API Gateway proxy event for one request, in ``event_format`` ``"v2"`` or ``"v1"``."""
    parts = urlsplit(url)
    raw_path = parts.path or "/"
    query = _query(parts.query)
    ctx = _request_context(method, account_id, parts.netloc, headers.get("User-Agent", ""))
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    text, is_base64 = encode_body(body, content_type)
    all_headers = {"Host": parts.netloc, "X-Forwarded-Proto": parts.scheme or "http",
                   **headers}
    if event_format == "v2":
        return _v2_event(method, raw_path, parts.query, query, all_headers, text, is_base64,
                         route, path_parameters, ctx)
    if event_format == "v1":
        return _v1_event(method, raw_path, query, all_headers, text, is_base64,
                         route, path_parameters, ctx)
    raise ValueError(
        f"event_format must be one of {', '.join(EVENT_FORMATS)}, not {event_format!r}")


def _v2_event(method: str, raw_path: str, raw_query: str, query: list[tuple[str, str]],
              headers: Mapping[str, str], body: str | None, is_base64: bool,
              route: Route | None, path_parameters: Mapping[str, str] | None,
              ctx: dict[str, Any]) -> dict[str, Any]:
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers.items():
        if name.lower() == "cookie":
            # HTTP APIs move cookies out of the headers into their own list.
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    route_key = route.key if route else "$default"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": ctx["accountId"],
            "apiId": ctx["apiId"],
            "domainName": ctx["domainName"],
            "domainPrefix": ctx["domainPrefix"],
            "http": {
                "method": method,
                "path": unquote(raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": ctx["sourceIp"],
                "userAgent": ctx["userAgent"],
            },
            "requestId": ctx["requestId"],
            "routeKey": route_key,
            "stage": "$default",
            "time": ctx["time"],
            "timeEpoch": ctx["timeEpoch"],
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        params: dict[str, str] = {}
        for key, value in query:
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body is not None:
        event["body"] = body
    return event


def _v1_event(method: str, raw_path: str, query: list[tuple[str, str]],
              headers: Mapping[str, str], body: str | None, is_base64: bool,
              route: Route | None, path_parameters: Mapping[str, str] | None,
              ctx: dict[str, Any]) -> dict[str, Any]:
    path = unquote(raw_path)
    if route is None:
        resource = "/{proxy+}"
        params: dict[str, str] | None = {"proxy": path.lstrip("/")} if path != "/" else None
    else:
        resource = route.template
        params = dict(path_parameters) if path_parameters else None
    multi_query: dict[str, list[str]] = {}
    for key, value in query:
        multi_query.setdefault(key, []).append(value)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "accountId": ctx["accountId"],
            "apiId": ctx["apiId"],
            "domainName": ctx["domainName"],
            "domainPrefix": ctx["domainPrefix"],
            "httpMethod": method,
            "identity": {"sourceIp": ctx["sourceIp"], "userAgent": ctx["userAgent"]},
            "path": f"/test{path}",
            "protocol": "HTTP/1.1",
            "requestId": ctx["requestId"],
            "requestTime": ctx["time"],
            "requestTimeEpoch": ctx["timeEpoch"],
            "resourceId": "lambdagate",
            "resourcePath": resource,
            "stage": "test",
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }
