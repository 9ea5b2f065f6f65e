"""The WSGI layer in front of moto: serves Invoke and enforces Lambda's rules.

Requests for other services, and Lambda requests we have nothing to add to, go to moto
untouched. Lambda requests we care about are checked against the rules in
:mod:`.fidelity` first (under one lock, so a check and the change it guards are atomic),
then either answered here (Invoke, GetAccountSettings) or handed to moto and, where moto
is lax, its answer corrected (alias RevisionIds, list paging).
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from . import fidelity
from .api_errors import ApiFault, json_response
from .environments import Environments, settings_from_json
from .invoke import invoke
from .runtimes import RuntimeUnavailable, find_interpreter

INSTANCE_PATH = "/_lambda_gate/instance"
SETTINGS_PATH = "/_lambda_gate/settings"
ENVIRONMENTS_PATH = "/_lambda_gate/environments"
RUNTIMES_PATH = "/_lambda_gate/runtimes/"
#: A request header (ours, not AWS's) asking for a new execution environment.
FRESH_HEADER = "X-Lambda-Gate-Fresh-Environment"
DEFAULT_REGION = "us-east-1"

_FN = r"^/2015-03-31/functions/(?P<fn>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(_FN + r"/invocations/?$"), "invoke"),
    ("GET", re.compile(r"^/2016-08-19/account-settings/?$"), "account_settings"),
    ("POST", re.compile(_FN + r"/aliases/?$"), "create_alias"),
    ("GET", re.compile(_FN + r"/aliases/?$"), "list_aliases"),
    ("PUT", re.compile(_FN + r"/aliases/(?P<alias>[^/]+)/?$"), "update_alias"),
    ("GET", re.compile(_FN + r"/aliases/(?P<alias>[^/]+)/?$"), "alias_by_name"),
    ("DELETE", re.compile(_FN + r"/aliases/(?P<alias>[^/]+)/?$"), "alias_by_name"),
    ("GET", re.compile(_FN + r"/versions/?$"), "list_versions"),
    ("POST", re.compile(_FN + r"/versions/?$"), "publish_version"),
    ("DELETE", re.compile(_FN + r"/?$"), "delete_function"),
    ("GET", re.compile(_FN + r"/?$"), "get_function"),
    ("GET", re.compile(_FN + r"/configuration/?$"), "get_configuration"),
    ("PUT", re.compile(_FN + r"/configuration/?$"), "update_configuration"),
    ("PUT", re.compile(_FN + r"/code/?$"), "update_code"),
    ("POST", re.compile(r"^/2015-03-31/functions/?$"), "create_function"),
]
_CREDENTIAL = re.compile(r"Credential=(?P<key>[^/]+)/[^/]+/(?P<region>[^/]+)/(?P<service>[^/]+)/")
_LAMBDA_PREFIXES = ("/2015-03-31/functions", "/2016-08-19/account-settings")

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


@dataclass(frozen=True)
class Instance:
    """Identifies one running server, so clients can tell a restarted (empty) one."""

    instance_id: str
    started_at: str


@dataclass(frozen=True)
class Call:
    """One Lambda API request, as the handlers below need it."""

    request: Request
    environ: dict
    params: dict[str, str]
    body: bytes
    region: str
    account_id: str

    def backend(self) -> Any:
        from moto.backends import get_backend

        return get_backend("lambda")[self.account_id][self.region]

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            raise ApiFault(400, "InvalidRequestContentException",
                           "Could not parse request body into json") from None
        return value if isinstance(value, dict) else {}


def _scope(environ: dict) -> tuple[str | None, str | None, str | None]:
    """(access key, region, service) from a SigV4 Authorization header, if any."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not match:
        return None, None, None
    return match.group("key"), match.group("region"), match.group("service")


def _account(environ: dict, access_key: str | None) -> str:
    # The same precedence moto uses, so we look in the backend moto wrote to.
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key or "AKIAEXAMPLE")


class LocalAwsMiddleware:
    """Wraps moto's WSGI app; see the module docstring for what it adds."""

    def __init__(self, app: WsgiApp, cache_dir: Path, instance: Instance,
                 environments: Environments | None = None) -> None:
        self.app = app
        self.cache_dir = cache_dir
        self.instance = instance
        self.environments = environments or Environments()
        self._lock = threading.RLock()

    def close(self) -> None:
        """Stop every execution environment this server started."""
        self.environments.close()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_lambda_gate/"):
            return self._own(path, environ)(environ, start_response)
        access_key, region, service = _scope(environ)
        is_lambda = service == "lambda" if service else path.startswith(_LAMBDA_PREFIXES)
        method = environ.get("REQUEST_METHOD", "GET")
        route = next(((name, m) for verb, pattern, name in _ROUTES
                      if verb == method and (m := pattern.match(path))), None)
        if not is_lambda or route is None:
            return self.app(environ, start_response)
        request = Request(environ)
        body = request.get_data(cache=True)
        # moto reads the body again: give it a fresh stream of the bytes we consumed.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        call = Call(request, environ, route[1].groupdict(), body, region or DEFAULT_REGION,
                    _account(environ, access_key))
        try:
            response = getattr(self, route[0])(call)
        except ApiFault as fault:
            response = fault.response()
        except Exception as exc:  # a moto error raised while we read its backend
            from moto.core.exceptions import JsonRESTError

            if not isinstance(exc, JsonRESTError):
                raise
            response = ApiFault(exc.code, exc.error_type, exc.message).response()
        return response(environ, start_response)

    def _own(self, path: str, environ: dict) -> Response:
        """lambda-gate's own endpoints: identity, settings, environments, runtimes."""
        method = environ.get("REQUEST_METHOD", "GET")
        if path == INSTANCE_PATH:
            return json_response(200, {"instance_id": self.instance.instance_id,
                                       "started_at": self.instance.started_at,
                                       "code_cache": str(self.cache_dir)})
        if path == SETTINGS_PATH and method == "PUT":
            try:
                raw = json.loads(Request(environ).get_data() or b"{}")
                self.environments.configure(settings_from_json(raw))
            except (ValueError, TypeError) as exc:
                return json_response(400, {"message": f"bad settings: {exc}"})
            return json_response(200, asdict(self.environments.settings))
        if path == SETTINGS_PATH:
            return json_response(200, asdict(self.environments.settings))
        if path == ENVIRONMENTS_PATH and method == "DELETE":
            self.environments.discard_all()
            return Response(b"", status=204)
        if path.startswith(RUNTIMES_PATH):
            runtime = path[len(RUNTIMES_PATH):]
            try:
                found = find_interpreter(runtime, self.environments.settings.interpreters)
            except RuntimeUnavailable as problem:
                return json_response(200, {"runtime": runtime, "problem": problem.message})
            except ApiFault as fault:
                return json_response(200, {"runtime": runtime, "problem": fault.message})
            return json_response(200, {"runtime": runtime, "executable": found.executable,
                                       "version": found.version})
        return json_response(404, {"message": f"no such endpoint: {method} {path}"})

    def _moto(self, call: Call) -> Response:
        environ = dict(call.environ)
        environ["wsgi.input"] = io.BytesIO(call.body)
        return Response.from_app(self.app, environ)

    def invoke(self, call: Call) -> Response:
        headers = call.request.headers
        endpoint = f"http://{call.environ.get('SERVER_NAME')}:{call.environ.get('SERVER_PORT')}"
        return invoke(call.backend(), call.params["fn"], call.request.args.get("Qualifier"),
                      call.body,
                      invocation_type=headers.get("X-Amz-Invocation-Type", "RequestResponse"),
                      region=call.region, cache_dir=self.cache_dir,
                      log_tail=headers.get("X-Amz-Log-Type") == "Tail",
                      endpoint_url=endpoint, environments=self.environments,
                      fresh=headers.get(FRESH_HEADER, "").lower() in ("1", "true", "yes"))

    def account_settings(self, call: Call) -> Response:
        return json_response(200, fidelity.account_settings(call.backend()._lambdas._functions))

    def _function(self, call: Call) -> tuple[str, str, dict[str, Any]]:
        """(name, unqualified ARN, stored versions by number) for the path's function."""
        backend = call.backend()
        fn = backend.get_function(call.params["fn"], None)
        group = backend._lambdas._functions[fn.function_name]
        versions = {str(v.version): v for v in group["versions"]}
        arn = (f"arn:aws:lambda:{call.region}:{call.account_id}:function:"
               f"{fn.function_name}")
        return fn.function_name, arn, versions

    def create_alias(self, call: Call) -> Response:
        params = call.json()
        fidelity.validate_alias_name(str(params.get("Name", "")))
        fidelity.validate_function_version(params.get("FunctionVersion"))
        with self._lock:
            name, arn, versions = self._function(call)
            existing = call.backend()._lambdas._get_function_aliases(name)
            if str(params.get("Name")) in existing:
                # moto answers ConflictException; Lambda, ResourceConflictException.
                raise ApiFault(409, "ResourceConflictException",
                               f"Alias already exists: {arn}:{params['Name']}")
            fidelity.validate_routing(params.get("RoutingConfig"),
                                      str(params["FunctionVersion"]), versions, arn)
            return self._moto(call)

    def update_alias(self, call: Call) -> Response:
        fidelity.validate_alias_name(call.params["alias"])
        params = call.json()
        if params.get("FunctionVersion") is not None:
            fidelity.validate_function_version(params["FunctionVersion"])
        with self._lock:
            name, arn, versions = self._function(call)
            alias = self._alias(call, name, arn)
            fidelity.check_revision(alias.revision_id, params.get("RevisionId"))
            primary = str(params.get("FunctionVersion") or alias.function_version)
            routing = (params["RoutingConfig"] if "RoutingConfig" in params
                       else alias.routing_config)
            fidelity.validate_routing(routing, primary, versions, arn)
            response = self._moto(call)
            if response.status_code >= 300:
                return response
            # moto keeps the RevisionId an alias was created with; Lambda issues a new
            # one on every update, which is what makes the guard above meaningful.
            alias.revision_id = str(uuid.uuid4())
            if not (alias.routing_config or {}).get("AdditionalVersionWeights"):
                alias.routing_config = None  # Lambda drops an emptied RoutingConfig
            return json_response(200, _alias_json(alias))

    def _alias(self, call: Call, name: str, arn: str) -> Any:
        alias = call.backend()._lambdas._get_function_aliases(name).get(call.params["alias"])
        if alias is None:
            raise fidelity.alias_not_found(arn, call.params["alias"])
        return alias

    def alias_by_name(self, call: Call) -> Response:
        fidelity.validate_alias_name(call.params["alias"])
        with self._lock:
            if call.request.method != "GET":
                return self._moto(call)
            name, arn, _ = self._function(call)
            return json_response(200, _alias_json(self._alias(call, name, arn)))

    def create_function(self, call: Call) -> Response:
        fidelity.validate_environment(call.json())
        return self._with_revision(call, self._moto(call), renew=False)

    def update_configuration(self, call: Call) -> Response:
        fidelity.validate_environment(call.json())
        return self._updated(call)

    def update_code(self, call: Call) -> Response:
        return self._updated(call)

    def _updated(self, call: Call) -> Response:
        with self._lock:
            fn = call.backend().get_function(call.params["fn"], None)
            fidelity.check_revision(_revision(fn), call.json().get("RevisionId"))
            return self._with_revision(call, self._moto(call), renew=True)

    def publish_version(self, call: Call) -> Response:
        params = call.json()
        with self._lock:
            latest = call.backend().get_function(call.params["fn"], None)
            fidelity.check_revision(_revision(latest), params.get("RevisionId"))
            fidelity.check_code_sha(latest.code_sha_256, params.get("CodeSha256"))
            return self._moto(call)

    def get_function(self, call: Call) -> Response:
        return self._qualified_answer(call, "Configuration")

    def get_configuration(self, call: Call) -> Response:
        return self._qualified_answer(call, None)

    def _qualified_answer(self, call: Call, key: str | None) -> Response:
        """moto's answer, with Lambda's RevisionId, and the alias ARN when an alias was
        asked for (moto gives the version's ARN)."""
        response = self._moto(call)
        if response.status_code >= 300:
            return response
        answer = json.loads(response.get_data())
        config = answer[key] if key else answer
        name = config["FunctionName"]
        qualifier = call.request.args.get("Qualifier")
        fn_part = call.params["fn"].split(":function:")[-1]
        if ":" in fn_part:
            qualifier = fn_part.rsplit(":", 1)[-1]
        fn = call.backend().get_function(name, config.get("Version"))
        config["RevisionId"] = _revision(fn)
        if qualifier and qualifier != "$LATEST" and not qualifier.isdigit():
            config["FunctionArn"] = f"{config['FunctionArn'].split(':function:')[0]}" \
                                    f":function:{name}:{qualifier}"
        return json_response(200, answer)

    def _with_revision(self, call: Call, response: Response, *, renew: bool) -> Response:
        """moto's answer to a change of $LATEST, with the RevisionId it now has."""
        if response.status_code >= 300:
            return response
        config = json.loads(response.get_data())
        fn = call.backend().get_function(config["FunctionName"], None)
        if renew:
            fn.lambda_gate_revision = str(uuid.uuid4())
        config["RevisionId"] = _revision(fn)
        return json_response(response.status_code, config)

    def delete_function(self, call: Call) -> Response:
        qualifier = call.request.args.get("Qualifier")
        fn_part = call.params["fn"]
        if ":" in fn_part.split(":function:")[-1]:
            qualifier = fn_part.rsplit(":", 1)[-1]
        if qualifier:
            fidelity.check_deletable_qualifier(qualifier)
        with self._lock:
            if qualifier:
                name, _, versions = self._function(call)
                fidelity.check_version_deletable(call.backend().list_aliases(name), qualifier)
                if qualifier not in versions:
                    return Response(b"", status=204)  # Lambda: deleting no version is a no-op
            return self._moto(call)

    def list_aliases(self, call: Call) -> Response:
        return self._paged(call, "Aliases", call.request.args.get("FunctionVersion"))

    def list_versions(self, call: Call) -> Response:
        return self._paged(call, "Versions", None)

    def _paged(self, call: Call, key: str, function_version: str | None) -> Response:
        """moto answers every item at once; Lambda pages them (50 by default)."""
        marker = call.request.args.get("Marker")
        max_items = call.request.args.get("MaxItems")
        fidelity.page([], None, max_items)  # validate MaxItems before doing any work
        response = self._moto(call)
        if response.status_code >= 300:
            return response
        items = json.loads(response.get_data())[key]
        if function_version:
            items = [item for item in items if item.get("FunctionVersion") == function_version]
        items, next_marker = fidelity.page(items, marker, max_items)
        answer: dict[str, Any] = {key: items}
        if next_marker:
            answer["NextMarker"] = next_marker
        return json_response(200, answer)


def _revision(fn: Any) -> str:
    """The RevisionId Lambda gives a function version; moto keeps none."""
    revision = getattr(fn, "lambda_gate_revision", None)
    if revision is None:
        revision = fn.lambda_gate_revision = str(uuid.uuid4())
    return revision


def _alias_json(alias: Any) -> dict[str, Any]:
    answer = alias.to_json()
    if not (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
        answer.pop("RoutingConfig", None)
    return answer
