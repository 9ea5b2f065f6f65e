"""Invoke latency on the local AWS: warm against the same server's ListFunctions, and cold.

A warm invocation reuses the version's execution environment (the process that
imported the code), so it should cost about what any API call to the server costs: the
goal is a warm invoke at most 3x a ListFunctions call, measured in the same run, taking
turns. Cold is the first invocation of a new version: unpacking the package into the
code cache, starting the interpreter and importing the handler. Compare the ratios
between machines, not the absolute milliseconds.

    python benchmarks/bench_invoke.py [N]

prints a table and writes benchmarks/results/invoke.json; ``run(n)`` returns the same
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
from pathlib import Path

import boto3
from results_file import save  # noqa: E402

from lambda_gate.local_aws.server import serve_in_thread

RESULTS = Path(__file__).resolve().parent / "results" / "invoke.json"

SOURCES = {
    "python3.11": ("app.py", "app.handler",
                   "def handler(event, context):\n    return {'ok': True}\n"),
    "nodejs20.x": ("index.js", "index.handler",
                   "exports.handler = async () => ({ ok: true });\n"),
}
#: Filler modules so the unpack is about as big as a small real package (~1 MB).
FILLER = {f"vendor/mod_{i}.py": f"# {i}\n" + "x = 1\n" * 3000 for i in range(50)}


def _package(main_file: str, source: str, salt: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        comment = "#" if main_file.endswith(".py") else "//"
        archive.writestr(main_file, f"{source}{comment} {salt}\n")  # a distinct CodeSha256
        for name, text in FILLER.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def _stats(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(p95, 1)}


WARM_OVER_LIST_GOAL = 3.0


def _timed_list(client) -> float:
    started = time.perf_counter()
    client.list_functions(MaxItems=1)
    return (time.perf_counter() - started) * 1000


def _timed_invoke(client, name: str) -> float:
    started = time.perf_counter()
    response = client.invoke(FunctionName=name, Qualifier="1")
    response["Payload"].read()
    elapsed = (time.perf_counter() - started) * 1000
    if "FunctionError" in response:
        raise RuntimeError(f"benchmark function {name} failed")
    return elapsed


def run(n: int = 30) -> dict:
    """Measure ``n`` warm invocations (each next to a ListFunctions call) and
    ``max(3, n // 5)`` cold ones per runtime."""
    server = serve_in_thread(cache_dir=Path(tempfile.mkdtemp(prefix="bench-invoke-")))
    try:
        kwargs = {"endpoint_url": server.url, "region_name": "us-east-1",
                  "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        iam = boto3.client("iam", **kwargs)
        client = boto3.client("lambda", **kwargs)
        role = iam.create_role(RoleName=f"bench-{uuid.uuid4().hex[:8]}",
                               AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        results: dict = {"n": n, "runtimes": {}}
        for runtime, (main_file, handler, source) in SOURCES.items():
            cold, names = [], []
            for _ in range(max(3, n // 5)):
                name = f"bench-{uuid.uuid4().hex[:12]}"
                client.create_function(
                    FunctionName=name, Runtime=runtime, Role=role, Handler=handler,
                    Code={"ZipFile": _package(main_file, source, name)}, Publish=True)
                names.append(name)
                cold.append(_timed_invoke(client, name))
            _timed_invoke(client, names[0])  # the first was cold; now it is warm
            warm, listing = [], []
            for _ in range(n):
                warm.append(_timed_invoke(client, names[0]))
                listing.append(_timed_list(client))
            entry = {"cold": _stats(cold), "warm": _stats(warm),
                     "list_functions": _stats(listing)}
            entry["cold_over_warm"] = round(entry["cold"]["median_ms"]
                                            / entry["warm"]["median_ms"], 2)
            entry["warm_over_list"] = round(entry["warm"]["median_ms"]
                                            / entry["list_functions"]["median_ms"], 2)
            entry["meets_goal"] = entry["warm_over_list"] <= WARM_OVER_LIST_GOAL
            results["runtimes"][runtime] = entry
        results["goal_warm_over_list"] = WARM_OVER_LIST_GOAL
        return results
    finally:
        server.stop()


def _table(results: dict) -> str:
    rows = [f"{'runtime':<12} {'kind':<14} {'n':>4} {'median ms':>10} {'p95 ms':>8}"]
    for runtime, entry in results["runtimes"].items():
        for kind in ("cold", "warm", "list_functions"):
            s = entry[kind]
            rows.append(f"{runtime:<12} {kind:<14} {s['n']:>4} {s['median_ms']:>10.1f} "
                        f"{s['p95_ms']:>8.1f}")
        rows.append(f"{runtime:<12} warm/ListFunctions median ratio: "
                    f"{entry['warm_over_list']} (goal <= {WARM_OVER_LIST_GOAL})")
        rows.append(f"{runtime:<12} cold/warm median ratio: {entry['cold_over_warm']}")
    return "\n".join(rows)


def main(argv: list[str]) -> None:
    results = run(int(argv[1]) if len(argv) > 1 else 30)
    save(RESULTS, results)
    print(_table(results))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv)
