"""Execution environments are reused as on Lambda: per version, warm, bounded, reaped."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from packages import zip_of

from lambda_gate.local_aws.middleware import FRESH_HEADER

MakeFunction = Callable[..., str]

COUNTER_PY = """
import os, tempfile, time
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    marker = os.path.join(tempfile.gettempdir(), "seen")
    seen = os.path.exists(marker)
    open(marker, "w").close()
    if event.get("hang"):
        time.sleep(30)
    if event.get("crash"):
        os._exit(7)
    return {"count": COUNT, "tmp_seen": seen, "pid": os.getpid(),
            "greeting": os.environ.get("GREETING")}
"""

# Each invocation leaves a file in a meeting directory and waits (bounded) until there
# are two: if two invocations shared one environment, the first would give up alone.
RENDEZVOUS_PY = """
import os, time
def handler(event, context):
    meeting = event["dir"]
    open(os.path.join(meeting, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 10
    while len(os.listdir(meeting)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"pid": os.getpid(), "met": len(os.listdir(meeting))}
"""


def wait_for_files(directory: Path, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(os.listdir(directory)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(os.listdir(directory)) >= count


def call(client, name: str, event: object = None, **kwargs) -> tuple[dict, dict]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}),
                             LogType="Tail", **kwargs)
    return response, json.loads(response["Payload"].read())


def tail(response: dict) -> str:
    return base64.b64decode(response["LogResult"]).decode()


def test_module_state_and_tmp_persist_across_invocations_of_one_version(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": COUNTER_PY})
    first, second = (call(lambda_client, name, Qualifier="1")[1] for _ in range(2))
    assert (first["count"], second["count"]) == (1, 2)
    assert (first["tmp_seen"], second["tmp_seen"]) == (False, True)
    assert first["pid"] == second["pid"]


def test_a_new_version_never_reuses_an_older_versions_environment(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": COUNTER_PY})
    assert call(lambda_client, name, Qualifier="1")[1]["count"] == 1
    lambda_client.update_function_code(FunctionName=name,
                                       ZipFile=zip_of({"app.py": COUNTER_PY + "# v2\n"}))
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "2"
    second = call(lambda_client, name, Qualifier="2")[1]
    assert (second["count"], second["tmp_seen"]) == (1, False)
    assert call(lambda_client, name, Qualifier="1")[1]["count"] == 2


def test_a_configuration_change_of_latest_gets_a_new_environment(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": COUNTER_PY}, env={"GREETING": "hello"})
    assert call(lambda_client, name)[1]["count"] == 1
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "bonjour"}})
    after = call(lambda_client, name)[1]
    assert (after["count"], after["greeting"]) == (1, "bonjour")


def test_two_concurrent_invocations_run_in_two_environments(
        lambda_client, make_function: MakeFunction, tmp_path: Path) -> None:
    name = make_function({"app.py": RENDEZVOUS_PY}, timeout=15)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: call(lambda_client, name, {"dir": str(tmp_path)})[1],
                                range(2)))
    assert [a["met"] for a in answers] == [2, 2]
    assert answers[0]["pid"] != answers[1]["pid"]


def test_init_duration_is_reported_on_a_cold_start_only(
        lambda_client, make_function: MakeFunction) -> None:
    name = make_function({"app.py": COUNTER_PY})
    cold, _ = call(lambda_client, name)
    warm, _ = call(lambda_client, name)
    cold_report = [line for line in tail(cold).splitlines() if line.startswith("REPORT")]
    warm_report = [line for line in tail(warm).splitlines() if line.startswith("REPORT")]
    assert "\tInit Duration: " in cold_report[0]
    assert "Max Memory Used: " in cold_report[0]
    assert "Init Duration" not in warm_report[0]


def test_an_environment_that_timed_out_is_discarded(lambda_client,
                                                    make_function: MakeFunction) -> None:
    name = make_function({"app.py": COUNTER_PY}, timeout=1)
    first, _ = call(lambda_client, name)
    hung, payload = call(lambda_client, name, {"hang": True})
    assert payload["errorType"] == "Sandbox.Timedout"
    after, answer = call(lambda_client, name)
    assert answer["count"] == 1
    assert "Init Duration" in tail(after)


def test_an_environment_that_crashed_is_discarded(lambda_client,
                                                  make_function: MakeFunction) -> None:
    name = make_function({"app.py": COUNTER_PY})
    pid = call(lambda_client, name)[1]["pid"]
    _, payload = call(lambda_client, name, {"crash": True})
    assert payload["errorType"] == "Runtime.ExitError"
    answer = call(lambda_client, name)[1]
    assert answer["count"] == 1 and answer["pid"] != pid


def test_a_handler_error_keeps_the_environment(lambda_client,
                                               make_function: MakeFunction) -> None:
    source = COUNTER_PY + "\ndef failing(event, context):\n    handler(event, context)\n" \
                          "    raise ValueError(COUNT)\n"
    name = make_function({"app.py": source}, handler="app.failing")
    messages = [call(lambda_client, name)[1]["errorMessage"] for _ in range(2)]
    assert messages == ["1", "2"]


def test_the_fresh_environments_setting_starts_one_per_invocation(
        other_local_aws, make_function: MakeFunction) -> None:
    _, client = other_local_aws(fresh=True)
    name = make_function({"app.py": COUNTER_PY})
    assert [call(client, name)[1]["count"] for _ in range(2)] == [1, 1]


def test_a_request_can_ask_for_a_fresh_environment(lambda_client,
                                                   make_function: MakeFunction) -> None:
    name = make_function({"app.py": COUNTER_PY})

    def ask_fresh(request, **_: object) -> None:
        request.headers[FRESH_HEADER] = "1"

    assert call(lambda_client, name)[1]["count"] == 1
    lambda_client.meta.events.register("before-send.lambda.Invoke", ask_fresh)
    try:
        assert call(lambda_client, name)[1]["count"] == 1
    finally:
        lambda_client.meta.events.unregister("before-send.lambda.Invoke", ask_fresh)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_idle_environments_are_reaped(other_local_aws, make_function: MakeFunction) -> None:
    server, client = other_local_aws(idle_seconds=0.2)
    name = make_function({"app.py": COUNTER_PY})
    pid = call(client, name)[1]["pid"]
    deadline = time.monotonic() + 10
    while server.environments.idle_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.environments.idle_count() == 0
    # The reaper takes an environment off the idle list first, then kills it.
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert call(client, name)[1]["count"] == 1


def test_beyond_the_cap_of_environments_an_invocation_is_throttled(
        other_local_aws, make_function: MakeFunction, tmp_path: Path) -> None:
    _, client = other_local_aws(max_environments=1)
    name = make_function({"app.py": RENDEZVOUS_PY}, timeout=15)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(call, client, name, {"dir": str(tmp_path)})
        wait_for_files(tmp_path, 1)  # the only environment is busy
        with pytest.raises(ClientError) as raised:
            call(client, name, {"dir": str(tmp_path)})
        (tmp_path / "release").touch()
        assert first.result()[1]["met"] == 2
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["Error"]["Message"] == "Rate Exceeded."
    assert raised.value.response["Reason"] == "ConcurrentInvocationLimitExceeded"


def test_stopping_the_server_stops_its_environments(other_local_aws,
                                                    make_function: MakeFunction) -> None:
    server, client = other_local_aws()
    name = make_function({"app.py": COUNTER_PY})
    pid = call(client, name)[1]["pid"]
    os.kill(pid, 0)  # alive and idle
    server.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
