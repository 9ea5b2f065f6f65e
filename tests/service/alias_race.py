"""An HTTP proxy in front of the local AWS that races a deploy on one alias.

Every request is passed through unchanged, except that just before the first
UpdateAlias of the watched function reaches the local AWS, the proxy moves that alias
itself (another client's write), so the deploy's RevisionId no longer matches: the
race, at exactly the point between two functions' alias moves.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class AliasRace:
    """``with AliasRace(upstream, "svc-worker", racer) as proxy: ... proxy.url``."""

    def __init__(self, upstream: str, function: str, racer: Callable[[], None]) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.watched = f"/2015-03-31/functions/{function}/aliases/"
        self.racer = racer
        self.raced = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if (self.command == "PUT" and self.path.startswith(proxy.watched)
                        and not proxy.raced.is_set()):
                    proxy.racer()
                    proxy.raced.set()
                upstream = http.client.HTTPConnection(proxy.upstream.hostname,
                                                      proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward

        return Handler

    def __enter__(self) -> AliasRace:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
