"""Pruning many versions on the local AWS: ours against a naive one-by-one loop.

Two functions get the same versions and the same three aliases (one weighted); one is
pruned by :func:`lambda_gate.aliases.prune.prune` (paged listings, then one delete per
version), the other by a naive loop that asks for each version number in turn and
deletes it (two calls a version, and it has to probe past the last one). Both run in
one process against one server, side by side, so the ratios (calls, time) are what to
compare between machines, not the absolute seconds. API calls are counted with a
botocore ``before-call`` hook, so retries would show up as extra sends, not calls.

The versions are made directly in the local AWS's backend (in-process): that is setup,
not measured, and through HTTP it would take a minute for 2,000 versions.

    python benchmarks/bench_prune.py [VERSIONS]

prints a summary and writes benchmarks/results/prune.json; ``run(versions)`` returns
the same dict.
"""

from __future__ import annotations

import base64
import io
import logging
import sys
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from pathlib import Path

import boto3
from botocore.exceptions import ClientError
from results_file import save  # noqa: E402

from lambda_gate import aliases
from lambda_gate.aliases import prune
from lambda_gate.local_aws.server import serve_in_thread

RESULTS = Path(__file__).resolve().parent / "results" / "prune.json"
KEEP = 10
ACCOUNT = "123456789012"
REGION = "us-east-1"


def _zip(n: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", f"def handler(event, context):\n    return {n}\n")
    return buffer.getvalue()


def _make_function(client, role: str, versions: int) -> str:
    """A function with ``versions`` published versions and three aliases."""
    from moto.backends import get_backend

    name = f"bench-prune-{uuid.uuid4().hex[:8]}"
    client.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                           Role=role, Code={"ZipFile": _zip(1)}, Publish=True)
    backend = get_backend("lambda")[ACCOUNT][REGION]
    for n in range(2, versions + 1):
        backend.update_function_code(name, "$LATEST",
                                     {"ZipFile": base64.b64encode(_zip(n)).decode()})
        backend.publish_version(name)
    aliases.promote(client, name, "main", str(versions // 2))
    main = aliases.get_alias(client, name, "main")
    aliases.shift_weight(client, name, main, str(versions // 2 + 1), 0.1)
    aliases.promote(client, name, "staging", str(versions // 4))
    aliases.promote(client, name, "feature", "3")
    return name


def _counted(client) -> Counter:
    calls: Counter = Counter()

    def count(model, **_) -> None:
        calls[model.name] += 1

    client.meta.events.register("before-call.lambda.*", count)
    return calls


def naive_prune(client, function: str, keep: int) -> int:
    """The loop people write first: ask for version 1, 2, 3... and delete as it goes."""
    found = client.list_aliases(FunctionName=function)["Aliases"]  # first page only
    used = set(prune.referenced_versions(found))
    existing = []
    n = 1
    while True:
        try:
            client.get_function_configuration(FunctionName=function, Qualifier=str(n))
        except ClientError:
            break
        existing.append(n)
        n += 1
    deleted = 0
    for number in existing[:-keep]:
        if str(number) not in used:
            client.delete_function(FunctionName=function, Qualifier=str(number))
            deleted += 1
    return deleted


def run(versions: int = 2000) -> dict:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = serve_in_thread(host="127.0.0.1", port=0,
                             cache_dir=Path(tempfile.mkdtemp(prefix="bench-prune-")))
    try:
        options = dict(endpoint_url=server.url, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
        setup = boto3.client("lambda", **options)
        role = boto3.client("iam", **options).create_role(
            RoleName=f"bench-{uuid.uuid4().hex[:6]}", AssumeRolePolicyDocument="{}",
        )["Role"]["Arn"]
        started = time.perf_counter()
        ours_fn = _make_function(setup, role, versions)
        naive_fn = _make_function(setup, role, versions)
        setup_s = time.perf_counter() - started

        ours_client = boto3.client("lambda", config=prune.retry_config(), **options)
        ours_calls = _counted(ours_client)
        started = time.perf_counter()
        # Every version counts as passing, as the naive loop keeps the newest KEEP.
        result = prune.prune(ours_client, ours_fn, KEEP, passing=lambda among: among,
                             log=lambda line: None)
        ours_s = time.perf_counter() - started

        naive_client = boto3.client("lambda", **options)
        naive_calls = _counted(naive_client)
        started = time.perf_counter()
        naive_deleted = naive_prune(naive_client, naive_fn, KEEP)
        naive_s = time.perf_counter() - started
    finally:
        server.stop()
    ours_total = sum(ours_calls.values())
    naive_total = sum(naive_calls.values())
    return {
        "versions": versions,
        "keep": KEEP,
        "setup_seconds": round(setup_s, 2),
        "ours": {"seconds": round(ours_s, 2), "api_calls": ours_total,
                 "calls_by_operation": dict(ours_calls), "deleted": len(result.deleted),
                 "freed_bytes": result.freed_bytes},
        "naive": {"seconds": round(naive_s, 2), "api_calls": naive_total,
                  "calls_by_operation": dict(naive_calls), "deleted": naive_deleted},
        "naive_over_ours": {"seconds": round(naive_s / ours_s, 2),
                            "api_calls": round(naive_total / ours_total, 2)},
        "note": "naive lists only the first page of aliases, so with more than 50 it "
                "would delete (or fail on) aliased versions; ours pages everything",
    }


def main(argv: list[str]) -> None:
    versions = int(argv[1]) if len(argv) > 1 else 2000
    results = run(versions)
    save(RESULTS, results)
    ours, naive = results["ours"], results["naive"]
    print(f"pruning {versions} versions, keeping {KEEP} and the aliased ones")
    print(f"  ours : {ours['seconds']:7.2f}s  {ours['api_calls']:5d} calls  "
          f"deleted {ours['deleted']}")
    print(f"  naive: {naive['seconds']:7.2f}s  {naive['api_calls']:5d} calls  "
          f"deleted {naive['deleted']}")
    ratio = results["naive_over_ours"]
    print(f"  naive/ours: {ratio['seconds']}x time, {ratio['api_calls']}x calls "
          f"(written to {RESULTS})")


if __name__ == "__main__":
    main(sys.argv)
