"""Talk HTTP to a Lambda version as API Gateway would, with a plain ``requests.Session``.

:class:`LambdaHttpSession` mounts :class:`LambdaHttpAdapter` for a base URL
(``http://lambda``), so ``session.get("/health?verbose=1")`` becomes an API Gateway
proxy event, the target version is invoked with it, and its answer comes back as a real
``requests.Response`` (headers, cookies, redirects and ``.json()`` all work). Both
payload formats are supported: ``"v2"`` (HTTP API, payload format 2.0, the default) and
``"v1"`` (REST API, payload format 1.0). Errors are mapped the way API Gateway maps
them, so a smoke test sees what a client of the deployed API would see.

No pytest here; the ``lambda_http`` fixture only builds a session.
"""

from __future__ import annotations

import base64
import http
import http.client
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict

from .http_events import DEFAULT_BASE_URL, EVENT_FORMATS, Route, build_event
from .invoker import InvokeResult

# API Gateway's bodies for a failed integration differ in capitalisation between APIs.
_INTERNAL_ERROR = {
    "v2": {"message": "Internal Server Error"},
    "v1": {"message": "Internal server error"},
}
_NOT_FOUND = {"message": "Not Found"}


@dataclass(frozen=True)
class HttpAnswer:
    """What API Gateway would send back: status, header pairs (repeats kept) and body.

    ``problem`` says why a 502 was produced when the function did not fail outright
    (a malformed proxy response), so the test report can explain it.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    problem: str | None = None


def _error_answer(event_format: str, problem: str | None = None) -> HttpAnswer:
    return HttpAnswer(502, (("Content-Type", "application/json"),),
                      json.dumps(_INTERNAL_ERROR[event_format]).encode(), problem)


def _header_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def answer_from_result(result: InvokeResult, event_format: str = "v2") -> HttpAnswer:
    """Map an invocation to the HTTP answer API Gateway gives for it.

    A function error becomes a 502; so does a response API Gateway cannot read. With
    format 2.0, a JSON result without ``statusCode`` is a 200 whose body is that JSON;
    format 1.0 requires the proxy shape.
    """
    if result.function_error:
        kind = result.function_error
        if isinstance(result.payload, dict) and result.payload.get("errorType"):
            kind += f": {result.payload['errorType']}"
        return _error_answer(event_format, f"the function failed ({kind}); its log tail, "
                             "with the error and traceback, is in a failing test's report")
    try:
        value = json.loads(result.raw)
    except (UnicodeDecodeError, ValueError):
        return _error_answer(event_format, "the function's response is not JSON")
    if not (isinstance(value, dict) and "statusCode" in value):
        if event_format == "v1":
            return _error_answer(event_format, "the response has no statusCode "
                                 "(REST APIs require the proxy response shape)")
        return HttpAnswer(200, (("Content-Type", "application/json"),), result.raw)
    status = value["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return _error_answer(event_format, f"statusCode {status!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    single = value.get("headers") or {}
    multi = (value.get("multiValueHeaders") or {}) if event_format == "v1" else {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return _error_answer(event_format, "headers must be a JSON object")
    for name, header in single.items():
        if name not in multi:
            headers.append((name, _header_value(header)))
    for name, values in multi.items():
        for header in values if isinstance(values, list) else [values]:
            headers.append((name, _header_value(header)))
    if event_format == "v2":
        for cookie in value.get("cookies") or []:
            headers.append(("Set-Cookie", str(cookie)))
    body = value.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        return _error_answer(event_format, "body must be a string (JSON-encode it yourself)")
    elif value.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except ValueError:
            return _error_answer(event_format, "isBase64Encoded is set but body is not base64")
    else:
        data = body.encode("utf-8")
    return HttpAnswer(status, tuple(headers), data)


class LambdaResponse(requests.Response):
    """A ``requests.Response`` that also carries the invocation behind it."""

    invoke_result: InvokeResult | None = None
    problem: str | None = None

    @property
    def log_tail(self) -> str:
        """The function's log tail for this request ("" when none was returned)."""
        return self.invoke_result.log_tail if self.invoke_result else ""


class _OriginalResponse:
    """Stands in for ``http.client.HTTPResponse`` where requests reads cookies from it."""

    def __init__(self, msg: http.client.HTTPMessage) -> None:
        self.msg = msg

    def isclosed(self) -> bool:
        return True

    def close(self) -> None:
        pass


def _request_body(request: requests.PreparedRequest) -> bytes | None:
    body = request.body
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    return b"".join(chunk.encode() if isinstance(chunk, str) else chunk for chunk in body)


class LambdaHttpAdapter(requests.adapters.BaseAdapter):
    """Sends each request to Lambda as an API Gateway proxy event.

    ``invoke`` takes the event (a dict) and returns an :class:`InvokeResult`; the
    ``lambda_invoke`` fixture fits.
    """

    def __init__(self, invoke: Callable[..., InvokeResult], *, event_format: str = "v2",
                 route: Route | None = None, account_id: str = "123456789012") -> None:
        super().__init__()
        if event_format not in EVENT_FORMATS:
            raise ValueError(
                f"event_format must be one of {', '.join(EVENT_FORMATS)}, not {event_format!r}")
        self.invoke = invoke
        self.event_format = event_format
        self.route = route
        self.account_id = account_id

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> LambdaResponse:
        method = (request.method or "GET").upper()
        url = request.url or "/"
        path = urlsplit(url).path or "/"
        params: dict[str, str] | None = None
        if self.route is not None:
            params = self.route.match(method, path)
            if params is None:
                answer = HttpAnswer(404, (("Content-Type", "application/json"),),
                                    json.dumps(_NOT_FOUND).encode(),
                                    f"{method} {path} does not match route {self.route.key}")
                return self.build_response(request, answer, None)
        headers = {name: value.decode("latin-1") if isinstance(value, bytes) else str(value)
                   for name, value in request.headers.items()}
        event = build_event(method, url, headers, _request_body(request),
                            event_format=self.event_format, route=self.route,
                            path_parameters=params, account_id=self.account_id)
        result = self.invoke(event)
        return self.build_response(request, answer_from_result(result, self.event_format),
                                   result)

    def build_response(self, request: requests.PreparedRequest, answer: HttpAnswer,
                       result: InvokeResult | None) -> LambdaResponse:
        """A ``requests.Response`` built the way requests' own HTTP adapter builds one."""
        raw_headers = HTTPHeaderDict()
        message = http.client.HTTPMessage()
        for name, value in answer.headers:
            raw_headers.add(name, value)
            message[name] = value  # HTTPMessage keeps repeated headers such as Set-Cookie
        if "content-length" not in raw_headers:
            raw_headers.add("Content-Length", str(len(answer.body)))
        reason = _reason(answer.status)
        raw = HTTPResponse(
            body=io.BytesIO(answer.body), headers=raw_headers, status=answer.status,
            reason=reason, preload_content=False, decode_content=False,
            original_response=_OriginalResponse(message), request_url=request.url,
        )
        response = LambdaResponse()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(raw_headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = reason
        response.url = request.url or ""
        response.request = request
        response.connection = self
        response.invoke_result = result
        response.problem = answer.problem
        extract_cookies_to_jar(response.cookies, request, raw)
        return response

    def close(self) -> None:
        pass


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class LambdaHttpSession(requests.Session):
    """A ``requests.Session`` whose ``base_url`` is served by the Lambda target.

    Relative URLs (``"/health"``) are taken from ``base_url``; absolute URLs elsewhere
    go out over the network as usual.
    """

    def __init__(self, invoke: Callable[..., InvokeResult], *, event_format: str = "v2",
                 route: Route | str | None = None, base_url: str = DEFAULT_BASE_URL,
                 account_id: str = "123456789012") -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.adapter = LambdaHttpAdapter(
            invoke, event_format=event_format,
            route=Route.parse(route) if isinstance(route, str) else route,
            account_id=account_id,
        )
        self.mount(self.base_url + "/", self.adapter)

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> LambdaResponse:
        """As ``requests.Session.request``, with relative URLs resolved against ``base_url``."""
        url = url.decode() if isinstance(url, bytes) else url
        if not urlsplit(url).scheme:
            url = f"{self.base_url}/{url.lstrip('/')}"
        return super().request(method, url, *args, **kwargs)  # type: ignore[return-value]
