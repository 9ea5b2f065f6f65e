"""What the plugin's fixtures cost per invocation, next to a bare boto3 invoke.

Three ways of calling the same published version on the local AWS are timed
interleaved, call by call, in one run: a bare ``client.invoke`` (log tail requested,
payload read), ``lambda_invoke`` (a :class:`~lambda_gate.invoker.LambdaInvoker`, which
also decodes the payload and log tail, redacts them and checks the executed version)
and ``lambda_http.get`` (an API Gateway v2 event and a ``requests.Response``). The goal
is ``lambda_invoke`` at most 5 % slower than bare; compare the ratios between machines,
not the milliseconds (each local invocation starts a process, which dominates). The
calling thread's CPU time per call is reported too: it isolates the client-side work
the fixtures add and is barely disturbed by other load on the machine.

    python benchmarks/bench_fixture.py [N]

prints a table and writes benchmarks/results/fixture.json; ``run(n)`` returns the same
dict for a benchmark runner.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import boto3
from results_file import save  # noqa: E402

from lambda_gate.local_aws.server import serve_in_thread
from lambda_gate.pytest_plugin.http_session import LambdaHttpSession
from lambda_gate.pytest_plugin.invoker import LambdaInvoker, Redactor
from lambda_gate.pytest_plugin.target import resolve_target
from lambda_gate.pytest_plugin.target_settings import resolve_settings

RESULTS = Path(__file__).resolve().parent / "results" / "fixture.json"
GOAL = 1.05

HANDLER = """
import json

def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"ok": True})}
"""


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def _stats(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    quartiles = statistics.quantiles(ordered, n=4)
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered), 2),
            "q1_ms": round(quartiles[0], 2), "q3_ms": round(quartiles[2], 2),
            "min_ms": round(ordered[0], 2), "max_ms": round(ordered[-1], 2)}


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall time and this thread's CPU time of one call, in ms.

    The CPU time leaves out the local AWS (it serves from another thread and runs the
    handler in a child process), so it isolates what the client side costs and is far
    less disturbed by other load on the machine than the wall time.
    """
    wall, cpu = time.perf_counter(), time.thread_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


def run(n: int = 30) -> dict:
    """Time ``n`` calls of each kind, interleaved, after one warm-up call of each."""
    server = serve_in_thread(cache_dir=Path(tempfile.mkdtemp(prefix="bench-fixture-")))
    try:
        kwargs = {"endpoint_url": server.url, "region_name": "us-east-1",
                  "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        role = boto3.client("iam", **kwargs).create_role(
            RoleName=f"bench-{uuid.uuid4().hex[:8]}",
            AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        name = f"bench-fixture-{uuid.uuid4().hex[:10]}"
        client = boto3.client("lambda", **kwargs)
        client.create_function(FunctionName=name, Runtime="python3.11", Role=role,
                              Handler="app.handler", Code={"ZipFile": _package()},
                              Publish=True, Environment={"Variables": {"TOKEN": "abcdef123"}})

        # One client for all three kinds, so only what the fixtures add differs.
        settings = resolve_settings({"function": name, "version": "1"}, {}, {})
        target, secrets = resolve_target(client, settings)
        invoker = LambdaInvoker(client, target, redact=Redactor(secrets))
        http = LambdaHttpSession(invoker)

        def bare() -> None:
            response = client.invoke(FunctionName=name, Qualifier="1", LogType="Tail",
                                     Payload=b"{}")
            response["Payload"].read()

        calls = {"bare": bare, "lambda_invoke": lambda: invoker({}),
                 "lambda_http": lambda: http.get("/health")}
        for call in calls.values():
            call()
        samples: dict[str, list[float]] = {kind: [] for kind in calls}
        cpu: dict[str, list[float]] = {kind: [] for kind in calls}
        for i in range(n):
            # Rotate the order so no kind always runs right after another.
            kinds = list(calls)[i % 3:] + list(calls)[:i % 3]
            for kind in kinds:
                wall_ms, cpu_ms = _timed(calls[kind])
                samples[kind].append(wall_ms)
                cpu[kind].append(cpu_ms)
        invoker.history.clear()
        http.close()

        bare_median = statistics.median(samples["bare"])
        bare_cpu = statistics.median(cpu["bare"])
        results: dict = {"n": n, "goal_ratio": GOAL, "kinds": {}}
        for kind, values in samples.items():
            entry = _stats(values)
            entry["over_bare"] = round(statistics.median(values) / bare_median, 3)
            entry["client_cpu"] = _stats(cpu[kind])
            entry["client_cpu_extra_ms"] = round(statistics.median(cpu[kind]) - bare_cpu, 3)
            results["kinds"][kind] = entry
        pairs = [f / b for f, b in zip(samples["lambda_invoke"], samples["bare"], strict=True)]
        results["lambda_invoke_pairwise_ratio"] = {
            "median": round(statistics.median(pairs), 3),
            "q1": round(statistics.quantiles(pairs, n=4)[0], 3),
            "q3": round(statistics.quantiles(pairs, n=4)[2], 3),
        }
        results["meets_goal"] = results["kinds"]["lambda_invoke"]["over_bare"] <= GOAL
        return results
    finally:
        server.stop()


def _table(results: dict) -> str:
    rows = [f"{'kind':<14} {'n':>4} {'median ms':>10} {'q1 ms':>8} {'q3 ms':>8} "
            f"{'/ bare':>7}"]
    for kind, s in results["kinds"].items():
        rows.append(f"{kind:<14} {s['n']:>4} {s['median_ms']:>10.2f} {s['q1_ms']:>8.2f} "
                    f"{s['q3_ms']:>8.2f} {s['over_bare']:>7.3f}   client CPU "
                    f"{s['client_cpu']['median_ms']:.2f} ms "
                    f"({s['client_cpu_extra_ms']:+.2f} ms)")
    pair = results["lambda_invoke_pairwise_ratio"]
    rows.append(f"lambda_invoke / bare, pairwise: median {pair['median']} "
                f"(IQR {pair['q1']}..{pair['q3']}); goal <= {results['goal_ratio']}: "
                f"{'met' if results['meets_goal'] else 'NOT met'}")
    return "\n".join(rows)


def main(argv: list[str]) -> None:
    results = run(int(argv[1]) if len(argv) > 1 else 30)
    save(RESULTS, results)
    print(_table(results))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv)
