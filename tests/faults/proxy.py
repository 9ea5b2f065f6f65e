"""A fault-injecting HTTP proxy between a deploy and the local AWS.

Real HTTP on loopback: every request is forwarded to the local AWS unchanged, except
those a :class:`Fault` matches, which get the error it describes instead, so the tool
under test sees exactly what a failing AWS API would send it. A :class:`Hold` keeps a
matching request waiting until the test releases it, so a deploy can be held at a known
point (mid-apply, holding terraform's state lock) while the test does something else.
Requests are logged, so a test can tell which calls were made.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Fault:
    """Answer ``times`` requests matching ``method`` and ``path`` (a regex) with an error."""

    method: str
    path: str
    status: int = 400
    code: str = "InvalidParameterValueException"
    message: str = "injected fault"
    times: int = 1
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.hits < self.times and method == self.method
                and re.search(self.path, path) is not None)


@dataclass
class Hold:
    """Keep the first ``times`` requests matching ``method`` and ``path`` waiting until
    :meth:`release` (or ``timeout`` seconds), then forward them as usual; with
    ``forward=False`` they are dropped instead (the connection closed, AWS never sees
    them), as for a client killed while it waited."""

    method: str
    path: str
    times: int = 1
    forward: bool = True
    timeout: float = 300
    hits: int = 0
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def matches(self, method: str, path: str) -> bool:
        return (self.hits < self.times and method == self.method
                and re.search(self.path, path) is not None)

    def wait_reached(self, timeout: float = 120) -> None:
        if not self.reached.wait(timeout):
            raise AssertionError(f"no {self.method} {self.path} within {timeout} s")

    def release(self) -> None:
        self.released.set()


@dataclass
class FaultProxy:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FaultProxy:
        proxy = self
        target = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                hold = proxy._held(self.command, self.path)
                if hold is not None:
                    hold.reached.set()
                    hold.released.wait(hold.timeout)
                    if not hold.forward:
                        self.close_connection = True
                        return
                fault = proxy._take(self.command, self.path)
                if fault is not None:
                    payload = json.dumps({"__type": fault.code, "Message": fault.message,
                                          "message": fault.message}).encode()
                    self._answer(fault.status, {"Content-Type": "application/json",
                                                "x-amzn-ErrorType": fault.code}, payload)
                    proxy._log(self.command, self.path, fault.status)
                    return
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                headers = {k: v for k, v in answer.getheaders()
                           if k.lower() not in ("transfer-encoding", "connection",
                                                "content-length")}
                self._answer(answer.status, headers, data)
                proxy._log(self.command, self.path, answer.status)

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def _held(self, method: str, path: str) -> Hold | None:
        with self._lock:
            for hold in self.holds:
                if hold.matches(method, path):
                    hold.hits += 1
                    return hold
        return None

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))
