"""A no-op deploy next to a deploy with a code change, side by side in one run.

``invoke deploy`` of a temp copy of the example service (``src/``, ``smoke/``, the
reference ``terraform/``) against its own embedded local AWS. After one untimed first
deploy (it creates the function and runs ``terraform init``), each round makes:

1. a deploy after a one-line code change: build, terraform apply (publishes a version),
   smoke tests, promote;
2. a no-op deploy with nothing changed (the source's mtimes renewed, as a fresh CI
   checkout does): the build cache hits, terraform is skipped because the artifact's
   CodeSha256 and every terraform input are unchanged and Lambda confirms it, and the
   alias is already there.

Figures, as medians with their spread (min-max): both wall times and their ratio (goal:
a no-op costs at most 25% of a deploy with a change); the apply step's own cost beyond
terraform's processes in the change deploys (preflight, fingerprint, the live checks,
reading outputs: the deploy record's ``apply`` minus ``terraform``); and the apply step
of a no-op deploy. Versions published by the no-op deploys must be 0.

    python benchmarks/bench_noop.py [REPEATS]

prints the figures and writes benchmarks/results/noop.json; ``run(repeats)`` returns the
same dict. Without registry access, export ``INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR``
(a provider mirror) first.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO / "plugin") not in sys.path:
    # Measure this checkout's lambda-gate, whichever copy is installed.
    sys.path.insert(0, str(REPO / "plugin"))

import boto3  # noqa: E402
from results_file import save  # noqa: E402

from lambda_gate.local_aws.server import serve_in_thread  # noqa: E402

RESULTS = HERE / "results" / "noop.json"
FUNCTION = "bench-noop"
REGION = "us-east-1"
GOALS = {"noop_vs_change": 0.25}


def summary(samples: Sequence[float]) -> dict[str, float]:
    """Median and spread (min-max) of a figure's runs."""
    return {"median": round(statistics.median(samples), 3), "min": round(min(samples), 3),
            "max": round(max(samples), 3), "runs": len(samples)}


def make_project(root: Path, endpoint: str) -> dict[str, str]:
    """The example service under ``root``; returns the environment to deploy it with."""
    for part in ("src", "smoke", "terraform"):
        shutil.copytree(REPO / part, root / part,
                        ignore=shutil.ignore_patterns(".terraform*", "__pycache__",
                                                      "*.tfstate*"))
    shutil.copy(REPO / "tasks.py", root / "tasks.py")
    (root / "invoke.yaml").write_text(
        f"lambda_gate:\n  terraform:\n    vars: {{function_name: {FUNCTION}}}\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
               INVOKE_LAMBDA_GATE_LOCAL_AWS_URL=endpoint, NO_COLOR="1", CI="true",
               GIT_BRANCH="main", PYTHONPATH=os.pathsep.join(
                   p for p in (str(REPO / "plugin"), os.environ.get("PYTHONPATH")) if p))
    return env


def versions(client) -> int:
    try:
        listed = client.list_versions_by_function(FunctionName=FUNCTION)["Versions"]
    except client.exceptions.ResourceNotFoundException:
        return 0
    return sum(1 for v in listed if v["Version"] != "$LATEST")


def deploy(root: Path, env: dict[str, str], client) -> dict:
    """One ``invoke deploy``, timed; its record's step durations; versions it published."""
    before = versions(client)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "invoke", "deploy"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise RuntimeError(f"deploy exited {proc.returncode}:\n{tail}")
    record = json.loads((root / ".lambda-gate/reports/deploy-record.json").read_text())
    return {"seconds": seconds, "durations": record.get("durations", {}),
            "published": versions(client) - before, "output": proc.stdout}


def run(repeats: int = 3) -> dict:
    """``repeats`` rounds of (deploy with a change, no-op deploy); writes the results."""
    if shutil.which("terraform") is None:
        raise RuntimeError("terraform is not on PATH: install Terraform 1.5+ first.")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
    with tempfile.TemporaryDirectory(prefix="bench-noop-") as tmp:
        work = Path(tmp)
        server = serve_in_thread(host="127.0.0.1", port=0, cache_dir=work / "code-cache")
        try:
            root = work / "project"
            root.mkdir()
            env = make_project(root, server.url)
            client = boto3.client("lambda", endpoint_url=server.url, region_name=REGION,
                                  aws_access_key_id="testing",
                                  aws_secret_access_key="testing")
            handler = root / "src" / "app.py"
            original = handler.read_text()
            deploy(root, env, client)  # creates the function and initialises terraform
            changes, noops = [], []
            for n in range(repeats):
                handler.write_text(f"{original}\nBENCHMARK_EDIT = {n}\n")
                changes.append(deploy(root, env, client))
                now = time.time()
                for path in (root / "src").rglob("*"):
                    os.utime(path, (now, now))
                noops.append(deploy(root, env, client))
        finally:
            server.stop()
    return _results(changes, noops)


def _results(changes: list[dict], noops: list[dict]) -> dict:
    change = summary([d["seconds"] for d in changes])
    noop = summary([d["seconds"] for d in noops])
    apply_overhead = summary([d["durations"]["apply"] - d["durations"]["terraform"]
                              for d in changes])
    terraform = summary([d["durations"]["terraform"] for d in changes])
    noop_apply = summary([d["durations"]["apply"] for d in noops])
    ratio = noop["median"] / change["median"]
    skipped = all("skipped terraform" in d["output"] for d in noops)
    results = {
        "seconds": {"change": change, "noop": noop, "terraform_in_change": terraform,
                    "apply_step_beyond_terraform": apply_overhead,
                    "apply_step_in_noop": noop_apply},
        "published": {"change": [d["published"] for d in changes],
                      "noop": [d["published"] for d in noops]},
        "noop_skipped_terraform": skipped,
        "ratios": {"noop_vs_change": round(ratio, 3)},
        "goals": GOALS,
        "met": {"noop_vs_change": ratio <= GOALS["noop_vs_change"] and skipped
                and not any(d["published"] for d in noops)},
    }
    results["figures"] = [
        _row("deploy: no-op vs with a code change (s)", noop, change, ratio,
             f"<= {GOALS['noop_vs_change']}", results["met"]["noop_vs_change"]),
        _row("apply step beyond terraform's processes, change deploy (s)", apply_overhead,
             terraform, apply_overhead["median"] / terraform["median"]),
        _row("apply step in a no-op deploy (s)", noop_apply, None, None),
    ]
    save(RESULTS, results)
    return results


def _row(figure: str, ours, baseline, ratio: float | None, goal: str = "",
         met: bool | None = None) -> dict:
    return {"figure": figure, "ours": ours, "baseline": baseline,
            "ratio": None if ratio is None else round(ratio, 3), "goal": goal, "met": met}


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value['median']:.2f} ({value['min']:.2f}-{value['max']:.2f})"


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    for row in result["figures"]:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.3f}"
        met = "" if row["met"] is None else ("met" if row["met"] else "NOT MET")
        print(f"{row['figure']:<62} {_cell(row['ours']):>20} {_cell(row['baseline']):>20} "
              f"{ratio:>7} {row['goal']:>7} {met}")
    print(f"versions published by no-op deploys: {result['published']['noop']}; "
          f"results in {RESULTS}")
