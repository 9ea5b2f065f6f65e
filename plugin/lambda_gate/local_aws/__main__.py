"""``python -m lambda_gate.local_aws``: serve the local AWS in the foreground.

This is an entry point like a task, so it is where an :class:`~lambda_gate.errors.Error`
becomes one line on stderr and an exit code (2 when the port is taken).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from ..errors import Error
from .environments import settings_from_json
from .server import LOOPBACK, serve_forever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambda_gate.local_aws",
                                     description="Serve lambda-gate's local AWS.")
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=4750, help="port (default %(default)s)")
    parser.add_argument("--cache-dir", type=Path, default=Path(".lambda-gate/code-cache"),
                        help="where unpacked function code is kept")
    parser.add_argument("--instance-id", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--settings", default=None, metavar="JSON",
                        help="execution environment settings: interpreters, fresh, "
                             "max_environments, idle_seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Stop cleanly (closing the socket) on the daemon's SIGTERM.
    signal.signal(signal.SIGTERM, _stop)
    try:
        settings = settings_from_json(json.loads(args.settings)) if args.settings else None
    except (ValueError, TypeError) as exc:
        print(f"lambda-gate local AWS: bad --settings: {exc}", file=sys.stderr)
        return 2
    try:
        serve_forever(args.host, args.port, args.cache_dir, args.instance_id, settings)
    except Error as exc:
        print(f"lambda-gate local AWS: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        pass
    return 0


def _stop(*_: object) -> None:
    raise SystemExit(0)  # unwinds serve_forever, which closes the socket


if __name__ == "__main__":
    raise SystemExit(main())
