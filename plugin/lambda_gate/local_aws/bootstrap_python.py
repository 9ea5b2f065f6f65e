"""Run one Lambda handler invocation in this (fresh) process, for the local AWS.

Started as ``python bootstrap_python.py INVOCATION_JSON`` by :mod:`.runtimes` with any
local Python 3, so it imports nothing from lambda-gate. It imports the handler the way
Lambda's Python runtime does (``dir/module.function``, ``/`` becoming ``.``), calls it
with the event and a context object, and writes the outcome as JSON to the result file:
``{"payload": "<json>"}`` or ``{"error": {...}}`` shaped as Lambda's runtime errors.
Everything the handler prints goes to stdout/stderr, which the caller keeps as the log.
"""

import importlib
import json
import os
import sys
import time
import traceback


class LambdaContext:
    """The attributes and method Lambda's Python runtime gives the handler's context."""

    def __init__(self, spec):
        self.function_name = spec["function_name"]
        self.function_version = spec["function_version"]
        self.invoked_function_arn = spec["invoked_function_arn"]
        # Lambda's runtime reads this from the environment, so it is a string there too.
        self.memory_limit_in_mb = str(spec["memory_limit_in_mb"])
        self.aws_request_id = spec["request_id"]
        self.log_group_name = spec["log_group_name"]
        self.log_stream_name = spec["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = spec["deadline_ms"]

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)


def _error(error_type, message, stack=None, request_id=""):
    return {"errorMessage": message, "errorType": error_type,
            "requestId": request_id, "stackTrace": stack or []}


def _run(spec):
    request_id = spec["request_id"]
    handler = spec["handler"]
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError:
        return {"error": _error(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)",
            request_id=request_id)}
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        return {"error": _error("Runtime.UserCodeSyntaxError",
                                f"Syntax error in module '{module_name}': {exc}",
                                request_id=request_id)}
    except Exception as exc:
        return {"error": _error("Runtime.ImportModuleError",
                                f"Unable to import module '{module_name}': {exc}",
                                request_id=request_id)}
    function = getattr(module, function_name, None)
    if function is None:
        return {"error": _error("Runtime.HandlerNotFound",
                                f"Handler '{function_name}' missing on module '{module_name}'",
                                request_id=request_id)}
    with open(spec["event_path"], encoding="utf-8") as f:
        event = json.load(f)
    try:
        result = function(event, LambdaContext(spec))
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop this bootstrap's frame
        return {"error": _error(type(exc).__name__, str(exc),
                                traceback.format_list(frames), request_id)}
    try:
        return {"payload": json.dumps(result)}
    except (TypeError, ValueError) as exc:
        return {"error": _error("Runtime.MarshalError", f"Unable to marshal response: {exc}",
                                request_id=request_id)}


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    # A script's own directory heads sys.path; the handler must see only the task root.
    sys.path[0] = spec["task_root"]
    # Started with -S: the interpreter's site-packages stand in for the libraries
    # Lambda's runtime provides (boto3), without running every .pth file of the host
    # (they can cost a few hundred milliseconds per invocation).
    import site

    sys.path.extend(p for p in site.getsitepackages() if p not in sys.path)
    outcome = _run(spec)
    sys.stdout.flush()
    sys.stderr.flush()
    tmp = spec["result_path"] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(outcome, f)
    os.replace(tmp, spec["result_path"])


if __name__ == "__main__":
    main(sys.argv)
