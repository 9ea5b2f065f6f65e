"""pytest plugin: smoke-test one published Lambda version.

Glue only: options and ini settings, the session-start check of the target, fixtures,
markers and the report. The work is done by :mod:`.target_settings` and :mod:`.target`
(which version, from where), :mod:`.invoker` (calling it) and :mod:`.http_session` with
:mod:`.http_events` (calling it as API Gateway would). Test authors import the public
names from here: ``from lambda_gate.pytest_plugin import LambdaInvoker``.

The target is named by ``--lambda-function``/``--lambda-version``, ``--lambda-arn`` or
``--lambda-terraform-output`` (or their ``LAMBDA_GATE_*`` environment variables and
``lambda_*`` ini options) and is checked before any test runs; a bad target is a usage
error (exit code 4). Without a target, tests that use the fixtures are skipped, so a
plain ``pytest`` keeps working.

Registered through the ``pytest11`` entry point ``lambda_gate``; when lambda-gate is
installed do not also pass ``-p lambda_gate.pytest_plugin`` (pytest refuses to register
a plugin twice).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

from ..errors import Error
from ..handoff import TARGET_FD_VARIABLE
from .evidence import Evidence, watch_default_session
from .invoker import InvokeResult, LambdaInvoker, Redactor
from .target import LambdaTarget, make_client, resolve_target
from .target_settings import (
    BOOLEAN_SETTINGS,
    CLI_OPTIONS,
    ENV_VARS,
    HTTP_EVENT_FORMATS,
    INI_OPTIONS,
    NO_TARGET_REASON,
    TargetSettings,
    parse_arn,
    resolve_settings,
)

if TYPE_CHECKING:
    from .http_session import LambdaHttpSession, LambdaResponse

__all__ = [
    "InvokeResult",
    "LambdaHttpSession",
    "LambdaInvoker",
    "LambdaResponse",
    "LambdaTarget",
    "TargetSettings",
    "get_settings",
]


def __getattr__(name: str) -> Any:
    # requests is imported only when HTTP is used: this module is loaded into every
    # pytest run of every project that has lambda-gate installed.
    if name in ("LambdaHttpSession", "LambdaResponse"):
        from . import http_session

        return getattr(http_session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: How many of a failed test's last invocations have their log tail in the report.
LOG_TAILS_IN_REPORT = 5

_FIXTURES = ("lambda_target", "lambda_invoke", "lambda_http")

_HELP = {
    "function": "name (or unqualified ARN) of the Lambda function under test",
    "version": "published version number of the function under test",
    "arn": "qualified ARN of the version under test (arn:aws:lambda:...:function:NAME:N)",
    "terraform_output": "JSON file from `terraform output -json` with function_name "
                        "and version outputs",
    "region": "AWS region of the function (default: the ARN's, else boto3's)",
    "profile": "AWS profile to use (default: boto3's credentials chain)",
    "endpoint_url": "Lambda endpoint URL, e.g. a local AWS (default: boto3's, "
                    "which honours AWS_ENDPOINT_URL)",
    "fresh_environments": "on lambda-gate's local AWS, run every invocation in a new "
                          "execution environment (a cold start; no module state or /tmp "
                          "carried over); no effect on a real account",
    "allow_alias": "allow an alias or $LATEST as the target (to test a live alias "
                   "after promotion)",
}


@dataclass(frozen=True)
class _SessionState:
    settings: TargetSettings
    target: LambdaTarget | None = None
    client: Any = None
    redactor: Redactor = Redactor()


_state_key = pytest.StashKey[_SessionState]()
_history_key = pytest.StashKey[list[InvokeResult]]()
_evidence_key = pytest.StashKey[Evidence]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lambda-gate", "smoke-testing one published Lambda version")
    for name, option in CLI_OPTIONS.items():
        env = ENV_VARS[name]
        if name in BOOLEAN_SETTINGS:
            group.addoption(option, action="store_true", default=None,
                            dest=f"lambda_{name}", help=f"{_HELP[name]}; env {env}")
            parser.addini(INI_OPTIONS[name], f"{_HELP[name]} (true/false)", default=None)
        else:
            group.addoption(option, default=None, dest=f"lambda_{name}",
                            metavar=name.upper(), help=f"{_HELP[name]}; env {env}")
            parser.addini(INI_OPTIONS[name], _HELP[name], default=None)
    parser.addini(
        INI_OPTIONS["http_event_format"],
        "API Gateway payload format of lambda_http's events: v2 (HTTP API, default) or "
        "v1 (REST API); a test overrides it with @pytest.mark.lambda_http(format=...)",
        default=None,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lambda_http(format='v2', route=None): how the lambda_http fixture calls the "
        "function: format 'v2' (HTTP API payload 2.0) or 'v1' (REST API payload 1.0); "
        "route such as 'GET /items/{id}' fills pathParameters.",
    )
    config.addinivalue_line(
        "markers",
        "lambda_fresh_environment: on lambda-gate's local AWS, every invocation in this "
        "test runs in a new execution environment (a cold start).",
    )
    config.addinivalue_line(
        "markers",
        "lambda_gate: the test uses the Lambda target (added automatically to tests "
        "using lambda_target, lambda_invoke or lambda_http; deselect with "
        "-m 'not lambda_gate').",
    )


def get_settings(config: pytest.Config) -> TargetSettings:
    """The target settings in effect: command line, then environment, then ini file."""
    cli = {name: config.getoption(f"lambda_{name}") for name in CLI_OPTIONS}
    ini = {name: config.getini(option) for name, option in INI_OPTIONS.items()}
    ini_dir = config.inipath.parent if config.inipath else config.rootpath
    return resolve_settings(cli, os.environ, ini, ini_dir=ini_dir,
                            cwd=config.invocation_params.dir)


def _target_from_deploy(config: pytest.Config) -> Any | None:
    """When a deploy started this run ahead of time, wait for the version it published.

    The deploy writes the qualified ARN to the pipe named by ``LAMBDA_GATE_TARGET_FD``
    and closes it; an empty read means the deploy stopped before its smoke tests.
    Returns the Lambda client made while waiting (None if it could not be made).
    """
    fd = os.environ.pop(TARGET_FD_VARIABLE, None)
    if not fd:
        return None
    # What needs no target is done while the deploy is still applying: the AWS SDK and
    # the HTTP adapter are imported, the client is made (a sixth of a second), and
    # everything alive now (the imported modules) is moved out of the garbage
    # collector's sight, so pytest's collections at the end of the session do not walk
    # it again.
    from . import http_session  # noqa: F401

    try:
        premade = make_client(get_settings(config))
    except Error:
        premade = None  # made again, and its error shown, once the target is known
    gc.freeze()
    chunks = []
    while chunk := os.read(int(fd), 4096):
        chunks.append(chunk)
    os.close(int(fd))
    arn = b"".join(chunks).decode().strip()
    if not arn:
        pytest.exit("lambda-gate: the deploy stopped before its smoke tests", returncode=0)
    os.environ[ENV_VARS["arn"]] = arn
    return premade


def _fits(client: Any, settings: TargetSettings) -> bool:
    """Whether a client made before the ARN was known serves its target: only the
    region can differ, as make_client takes it from the ARN when none is set."""
    if settings.region is not None or settings.arn is None:
        return True
    return parse_arn(settings.arn.value, settings.arn.source).region == client.meta.region_name


def pytest_sessionstart(session: pytest.Session) -> None:
    """Check the target before any test runs; a bad one is a usage error."""
    config = session.config
    premade = _target_from_deploy(config)
    try:
        settings = get_settings(config)
        state = _SessionState(settings)
        if settings.has_target:
            client = (premade if premade is not None and _fits(premade, settings)
                      else make_client(settings))
            target, secrets = resolve_target(client, settings)
            state = _SessionState(settings, target, client, Redactor(secrets))
    except Error as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_state_key] = state
    if state.target is not None:
        _add_junit_properties(config, state.target)
        evidence = Evidence(state.target)
        evidence.watch(state.client.meta.events)
        watch_default_session(evidence)
        config.stash[_evidence_key] = evidence


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    """Attribute each invocation of the target to the test running it."""
    evidence = item.config.stash.get(_evidence_key, None)
    if evidence is not None:
        evidence.current = item
    try:
        return (yield)
    finally:
        if evidence is not None:
            evidence.current = None


def _add_junit_properties(config: pytest.Config, target: LambdaTarget) -> None:
    """Put the target into the JUnit XML, where the deploy gate reads it."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - a pytest without junitxml's stash key
        return
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    xml.add_global_property("lambda_gate.function", target.function_name)
    xml.add_global_property("lambda_gate.version", target.version)
    xml.add_global_property("lambda_gate.qualified_arn", target.qualified_arn)
    xml.add_global_property("lambda_gate.code_sha256", target.code_sha256)
    if target.alias:
        xml.add_global_property("lambda_gate.alias", target.alias)


def _is_aws(endpoint: str | None) -> bool:
    host = urlsplit(endpoint or "").hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = config.stash.get(_state_key, None)
    if state is None or state.target is None:
        return ["lambda-gate: no Lambda target (tests using its fixtures are skipped)"]
    target, settings = state.target, state.settings
    assert settings.version is not None
    lines = [
        f"lambda-gate: {target.function_name} version {target.version} "
        f"({target.qualified_arn}), from {settings.version.source}",
    ]
    if target.alias:
        lines.append(f"lambda-gate: through alias {target.alias!r}, allowed by "
                     f"{settings.allow_alias_source}")
    if not _is_aws(target.endpoint_url):
        lines.append(f"lambda-gate: endpoint {target.endpoint_url}")
    return lines


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in _FIXTURES):
            item.add_marker("lambda_gate")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    history = item.stash.get(_history_key, None)
    if report.failed and history:
        report.sections.append(("lambda log tail", format_log_tails(history)))
        history.clear()  # shown once, even if teardown fails too
    return report


def format_log_tails(history: list[InvokeResult]) -> str:
    """The last invocations' log tails, newest last, each under a one-line summary."""
    shown = history[-LOG_TAILS_IN_REPORT:]
    skipped = len(history) - len(shown)
    parts = [f"({skipped} earlier invocations not shown)"] if skipped else []
    for number, result in enumerate(shown, start=skipped + 1):
        error = f", {result.function_error} error" if result.function_error else ""
        if result.function_error and isinstance(result.payload, dict) \
                and result.payload.get("errorType"):
            error += f" ({result.payload['errorType']})"  # the type only: messages may quote values
        parts.append(
            f"--- invocation {number} of {len(history)}: status {result.status_code}, "
            f"version {result.executed_version}{error}, {result.duration * 1000:.0f} ms ---"
        )
        parts.append(result.log_tail.rstrip() or "(no log tail returned)")
    return "\n".join(parts)


def _state(config: pytest.Config) -> _SessionState:
    state = config.stash.get(_state_key, None)
    if state is None or state.target is None:
        pytest.skip(NO_TARGET_REASON)
    return state


def _fail(message: str) -> NoReturn:
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def lambda_target(pytestconfig: pytest.Config) -> LambdaTarget:
    """The published version under test, checked at session start."""
    target = _state(pytestconfig).target
    assert target is not None
    return target


@pytest.fixture
def lambda_invoke(request: pytest.FixtureRequest, lambda_target: LambdaTarget) -> LambdaInvoker:
    """Invoke the target version: ``lambda_invoke({"key": "value"})`` -> InvokeResult.

    Fails the test if Lambda executed any other version.
    """
    state = _state(request.config)
    history = request.node.stash.setdefault(_history_key, [])
    fresh = (state.settings.fresh_environments
             or request.node.get_closest_marker("lambda_fresh_environment") is not None)
    return LambdaInvoker(state.client, lambda_target, fail=_fail, redact=state.redactor,
                         history=history,
                         fresh_environment=fresh and not _is_aws(lambda_target.endpoint_url))


@pytest.fixture
def lambda_http(request: pytest.FixtureRequest, lambda_invoke: LambdaInvoker
                ) -> Iterator[LambdaHttpSession]:
    """A ``requests.Session`` for ``http://lambda`` that calls the target through events.

    ``lambda_http.get("/health")`` sends an API Gateway proxy event (payload format 2.0
    unless ini ``lambda_http_event_format`` or ``@pytest.mark.lambda_http(format="v1")``
    says otherwise) and returns the response API Gateway would give.
    """
    state = _state(request.config)
    marker = request.node.get_closest_marker("lambda_http")
    kwargs = dict(marker.kwargs) if marker else {}
    unknown = sorted(set(kwargs) - {"format", "route"})
    if unknown:
        _fail(f"@pytest.mark.lambda_http got unknown arguments {', '.join(unknown)}: "
              "it takes format='v2'|'v1' and route='METHOD /path/{param}'.")
    event_format = kwargs.get("format") or state.settings.http_event_format
    event_format = {"2.0": "v2", "1.0": "v1"}.get(event_format, event_format)
    if event_format not in HTTP_EVENT_FORMATS:
        _fail(f"@pytest.mark.lambda_http(format={event_format!r}) is not a payload format: "
              "use 'v2' (HTTP API) or 'v1' (REST API).")
    from .http_session import LambdaHttpSession, Route

    route = kwargs.get("route")
    try:
        parsed = Route.parse(route) if route else None
    except ValueError as exc:
        _fail(f"@pytest.mark.lambda_http: {exc}.")
    account = lambda_invoke.target.qualified_arn.split(":")[4]
    session = LambdaHttpSession(lambda_invoke, event_format=event_format, route=parsed,
                                account_id=account)
    try:
        yield session
    finally:
        session.close()
