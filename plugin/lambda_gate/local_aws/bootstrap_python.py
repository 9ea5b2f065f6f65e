"""A Python execution environment for the local AWS: init once, then invoke many times.

Started by :mod:`.environments` as ``python -I -S bootstrap_python.py REQ_FD RES_FD``
under the runtime's own interpreter, so it imports nothing but the standard library.
Requests arrive as JSON lines on REQ_FD, answers leave as JSON lines on RES_FD; stdout
and stderr are the function's log. The first request is ``{"init": {...}}``: sys.path
becomes the task root, then the runtime's provided libraries (boto3), then the standard
library, as on Lambda, and the handler's module is imported. Then each
``{"invoke": {...}}`` calls the handler with the event and a context object.

Errors take the shapes Lambda's Python runtime gives them. An ImportError, a syntax
error or a missing handler is answered on every invocation and the environment lives
on; any other exception while importing fails the init, and the process exits. Each
error is also written to the log as ``[ERROR] Type: message`` and a traceback, so it
reaches the tester's log tail.
"""

import importlib
import json
import logging
import os
import sys
import time
import traceback

_INTERNAL = (os.path.abspath(__file__), "<frozen importlib", os.path.dirname(importlib.__file__))


class LambdaContext:
    """The attributes and method Lambda's Python runtime gives the handler's context."""

    def __init__(self, init, invoke):
        self.function_name = init["function_name"]
        self.function_version = init["function_version"]
        self.invoked_function_arn = invoke["invoked_function_arn"]
        # Lambda's runtime reads this from the environment, so it is a string there too.
        self.memory_limit_in_mb = str(init["memory_limit_in_mb"])
        self.aws_request_id = invoke["request_id"]
        self.log_group_name = init["log_group_name"]
        self.log_stream_name = init["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = invoke["deadline_ms"]

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = self.request_id
        return True


def _setup_logging():
    """Lambda's runtime gives the root logger a handler, so logging.warning() shows."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime
    request_filter = _RequestIdFilter()
    handler.addFilter(request_filter)
    logging.getLogger().addHandler(handler)
    return request_filter


def _user_frames(tb):
    frames = traceback.extract_tb(tb)
    return [f for f in frames if not f.filename.startswith(_INTERNAL)]


def _error(error_type, message, stack=None, request_id=""):
    return {"errorMessage": message, "errorType": error_type,
            "requestId": request_id, "stackTrace": stack or []}


def _log_error(error, extra_trace=None):
    """Write an error to the log the way Lambda's runtime does: type, message, trace."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}",
             "Traceback (most recent call last):"]
    for element in (error.get("stackTrace") or []) + (extra_trace or []):
        lines.extend(element.rstrip("\n").splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


class _Fault:
    """A handler Lambda's runtime substitutes when the real one cannot be loaded."""

    def __init__(self, error_type, message, log_trace=None):
        self.error = _error(error_type, message)
        self.log_trace = log_trace or []


def load_handler(handler):
    """The handler function, or a :class:`_Fault` to answer every invocation with.

    Exceptions other than these propagate: they fail the init.
    """
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        return _Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}")
    module_name = module_name.replace("/", ".")
    if module_name.split(".")[0] in sys.builtin_module_names:
        return _Fault("Runtime.BuiltInModuleConflict",
                      f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        # Lambda's answer carries no trace; the log gets the real one, which is what
        # explains an import that fails deep inside a dependency.
        return _Fault("Runtime.ImportModuleError",
                      f"Unable to import module '{module_name}': {exc}",
                      traceback.format_list(_user_frames(exc.__traceback__)))
    except SyntaxError as exc:
        fault = _Fault("Runtime.UserCodeSyntaxError",
                       f"Syntax error in module '{module_name}': {exc}")
        fault.error["stackTrace"] = [f'  File "{exc.filename}" Line {exc.lineno}\n'
                                     f"    {(exc.text or '').strip()}\n"]
        return fault
    function = getattr(module, function_name, None)
    if function is None:
        return _Fault("Runtime.HandlerNotFound",
                      f"Handler '{function_name}' missing on module '{module_name}'")
    return function


def _flush():
    sys.stdout.flush()
    sys.stderr.flush()


def _send(fd, message):
    _flush()
    data = (json.dumps(message) + "\n").encode("utf-8")
    while data:
        data = data[os.write(fd, data):]


def init(spec):
    # -I -S left sys.path as the standard library only; Lambda's order puts the task
    # root first, then the runtime's libraries, then the standard library.
    sys.path[:0] = [spec["task_root"], *spec["runtime_path"]]
    os.chdir(spec["task_root"])
    try:
        return load_handler(spec["handler"]), None
    except Exception as exc:
        error = _error(type(exc).__name__, str(exc),
                       traceback.format_list(_user_frames(exc.__traceback__)))
        _log_error(error)
        return None, error


def invoke(function, init_spec, spec, request_filter):
    request_id = spec["request_id"]
    request_filter.request_id = request_id
    if isinstance(function, _Fault):
        error = dict(function.error, requestId=request_id)
        _log_error(error, function.log_trace)
        return {"error": error}
    event = json.loads(spec["event"])
    try:
        result = function(event, LambdaContext(init_spec, spec))
    except Exception as exc:
        error = _error(type(exc).__name__, str(exc),
                       traceback.format_list(_user_frames(exc.__traceback__)), request_id)
        _log_error(error)
        return {"error": error}
    try:
        return {"payload": json.dumps(result)}
    except (TypeError, ValueError) as exc:
        error = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}",
                       request_id=request_id)
        _log_error(error)
        return {"error": error}


def main(argv):
    requests = os.fdopen(int(argv[1]), "rb")
    answers = int(argv[2])
    # A process the function starts must not inherit the local AWS's channel.
    os.set_inheritable(requests.fileno(), False)
    os.set_inheritable(answers, False)
    # Line by line, so prints and tracebacks keep their order in the log.
    sys.stdout.reconfigure(line_buffering=True)
    request_filter = _setup_logging()
    init_spec = json.loads(requests.readline())["init"]
    function, error = init(init_spec)
    if error is not None:
        _send(answers, {"init_error": error})
        return 1  # a failed init ends the environment, as on Lambda
    _send(answers, {"ready": True})
    for line in requests:  # ends when the local AWS closes the channel or goes away
        _send(answers, invoke(function, init_spec, json.loads(line)["invoke"],
                              request_filter))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
