"""Serving the local AWS: moto's server app wrapped by our middleware.

moto keeps its state in process-global backends, so every app made in one process
shares it; a restarted server is empty. Clients tell one server from another by
``GET /_lambda_gate/instance``. We only ever bind the host we are given, and every
default is the loopback address (moto's own ThreadedMotoServer defaults to every interface).
"""

from __future__ import annotations

import errno
import logging
import socket
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from ..errors import LocalAwsError
from .environments import Environments, EnvironmentSettings
from .middleware import Instance, LocalAwsMiddleware

log = logging.getLogger("lambda_gate.local_aws")
LOOPBACK = "127.0.0.1"


def new_instance(instance_id: str | None = None) -> Instance:
    return Instance(instance_id or uuid.uuid4().hex,
                    datetime.now(timezone.utc).isoformat(timespec="seconds"))


def make_app(cache_dir: Path, *, instance: Instance | None = None,
             settings: EnvironmentSettings | None = None) -> LocalAwsMiddleware:
    """moto's server app behind our middleware; ``cache_dir`` keeps unpacked code.

    Call the app's ``close()`` when done: it stops the execution environments.
    """
    from moto.server import DomainDispatcherApplication, create_backend_app

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    moto_app = DomainDispatcherApplication(create_backend_app)
    return LocalAwsMiddleware(moto_app, cache_dir, instance or new_instance(),
                              Environments(settings))


def port_in_use(host: str, port: int) -> LocalAwsError:
    return LocalAwsError(
        f"cannot start the local AWS: port {port} on {host} is already in use by another "
        "program. Pick a free port with lambda_gate.local_aws.port in invoke.yaml or "
        "INVOKE_LAMBDA_GATE_LOCAL_AWS_PORT, or stop what is using it.", exit_code=2)


def bind(host: str, port: int, cache_dir: Path, instance: Instance | None = None,
         settings: EnvironmentSettings | None = None) -> BaseWSGIServer:
    """A threaded werkzeug server for the app, bound but not yet serving.

    We bind the socket ourselves: werkzeug reports a failed bind by printing and then
    exits the process, which would take the caller down with it.
    """
    app = make_app(cache_dir, instance=instance, settings=settings)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        return make_server(host, port, app, threaded=True, fd=listener.fileno())
    except OSError as exc:
        app.close()
        if exc.errno == errno.EADDRINUSE:
            raise port_in_use(host, port) from None
        raise LocalAwsError(f"cannot start the local AWS on {host}:{port}: {exc.strerror}. "
                            "Check lambda_gate.local_aws.host and port.") from None
    finally:
        listener.close()  # werkzeug serves on its own duplicate of the descriptor


@dataclass
class LocalAws:
    """A local AWS serving in a daemon thread of this process."""

    host: str
    port: int
    instance_id: str
    started_at: str
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def environments(self) -> Environments:
        """The execution environments this server keeps warm."""
        return self._server.app.environments  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop serving, close the socket and stop every execution environment;
        moto's state stays in this process."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server.app.close()  # type: ignore[attr-defined]


def serve_in_thread(host: str = LOOPBACK, port: int = 0, cache_dir: Path | None = None,
                    settings: EnvironmentSettings | None = None) -> LocalAws:
    """Start serving in a daemon thread; ``port=0`` picks a free port."""
    cache = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="lambda-gate-code-"))
    instance = new_instance()
    server = bind(host, port, cache, instance, settings)
    thread = threading.Thread(target=server.serve_forever, name="lambda-gate-local-aws",
                              daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    log.info("local AWS serving on http://%s:%s", bound_host, bound_port)
    return LocalAws(str(bound_host), int(bound_port), instance.instance_id,
                    instance.started_at, server, thread)


def serve_forever(host: str, port: int, cache_dir: Path, instance_id: str | None = None,
                  settings: EnvironmentSettings | None = None) -> None:
    """Serve in the foreground until the process is stopped (the daemon's entry point)."""
    server = bind(host, port, cache_dir, new_instance(instance_id), settings)
    log.info("local AWS serving on http://%s:%s", *server.server_address[:2])
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.app.close()  # type: ignore[attr-defined]
