"""`invoke deploy` next to the plain shell pipeline, side by side on one local AWS.

The plain pipeline is ``plain_pipeline/deploy.sh``: ``zip -r``, ``terraform init`` and
``apply``, ``terraform output -json``, then ``aws lambda update-alias || create-alias``,
the script users compare us with. Both deploy the example service (``src/``, the
reference ``terraform/``) as separate functions on the same embedded local AWS, taking
turns, so machine noise falls on both alike. Measured:

1. a deploy after a code change (a one-line edit to the handler before each deploy,
   both pipelines): wall time; ours also runs the smoke tests;
2. a redeploy with nothing changed: wall time and versions published. The source files'
   mtimes are renewed first, as a fresh CI checkout does, for both pipelines;
3. lambda-gate's own overhead in each code-change deploy: its wall time minus
   terraform's processes and the smoke tests' pytest process (the deploy record's
   ``durations``; the example has no pip or npm dependencies, so there is nothing else
   to subtract).

    python benchmarks/bench_pipeline.py [DEPLOYS [REDEPLOYS]]

prints the figures and writes benchmarks/results/pipeline.json; ``run()`` returns the
same dict for ``benchmarks/run.py``. Without registry access, export
``INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR`` (a provider mirror): both pipelines use it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO / "plugin") not in sys.path:
    # Measure this checkout's lambda-gate, whichever copy is installed.
    sys.path.insert(0, str(REPO / "plugin"))

import boto3  # noqa: E402
from results_file import save  # noqa: E402

from lambda_gate.local_aws.server import serve_in_thread  # noqa: E402
from lambda_gate.publish.provider_mirror import cli_config_for_mirror  # noqa: E402

RESULTS = HERE / "results" / "pipeline.json"
PLAIN_SCRIPT = HERE / "plain_pipeline" / "deploy.sh"
MIRROR_VARIABLE = "INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR"
TOOLS = ("terraform", "zip", "jq", "aws", "bash")
OURS, PLAIN = "lambda-gate", "plain"
ALIAS = "main"
GOALS = {"change_ratio": 0.9, "unchanged_ratio": 0.15, "overhead_seconds": 1.0}
REGION = "us-east-1"


@dataclass(frozen=True)
class DeployRun:
    """One timed deploy of one pipeline."""

    pipeline: str
    kind: str  # "change" or "unchanged"
    seconds: float
    published: int
    durations: dict[str, float]


@dataclass(frozen=True)
class Pipeline:
    """A working copy one pipeline deploys from, and how to run its deploy."""

    name: str
    root: Path
    function: str
    argv: tuple[str, ...]
    env: dict[str, str]
    record: Path | None  # ours writes a deploy record with per-step durations

    @property
    def handler(self) -> Path:
        return self.root / "src" / "app.py"


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def summary(samples: Sequence[float]) -> dict[str, float]:
    """Median and spread (min-max) of a figure's runs."""
    return {"median": round(statistics.median(samples), 3), "min": round(min(samples), 3),
            "max": round(max(samples), 3), "runs": len(samples)}


def _base_env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                        "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION,
               AWS_DEFAULT_REGION=REGION, NO_COLOR="1", CI="true", GIT_BRANCH="main",
               PYTHONPATH=os.pathsep.join(
                   p for p in (str(REPO / "plugin"), os.environ.get("PYTHONPATH")) if p))
    return env


def _copy(parts: Sequence[str], root: Path) -> None:
    for part in parts:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part,
                            ignore=shutil.ignore_patterns(".terraform*", "__pycache__",
                                                          "*.tfstate*"))
        else:
            shutil.copy(source, root / part)


def make_ours(work: Path, endpoint: str) -> Pipeline:
    """A copy of the example service deployed by ``python -m invoke deploy``."""
    root = work / "lambda-gate"
    root.mkdir()
    _copy(("src", "smoke", "terraform", "tasks.py"), root)
    function = "bench-lambda-gate"
    (root / "invoke.yaml").write_text(
        f"lambda_gate:\n  terraform:\n    vars: {{function_name: {function}}}\n")
    env = _base_env(endpoint)
    env["INVOKE_LAMBDA_GATE_LOCAL_AWS_URL"] = endpoint
    return Pipeline(OURS, root, function, (sys.executable, "-m", "invoke", "deploy"), env,
                    root / ".lambda-gate" / "reports" / "deploy-record.json")


def make_plain(work: Path, endpoint: str) -> Pipeline:
    """A copy of the same source and terraform deployed by the plain shell script."""
    root = work / "plain"
    root.mkdir()
    _copy(("src", "terraform"), root)
    function = "bench-plain"
    env = _base_env(endpoint)
    env.update(FUNCTION_NAME=function, ALIAS=ALIAS)
    mirror = os.environ.get(MIRROR_VARIABLE)
    if mirror:
        rc = work / "plain.tfrc"
        rc.write_text(cli_config_for_mirror(Path(mirror)))
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    return Pipeline(PLAIN, root, function, ("bash", str(PLAIN_SCRIPT)), env, None)


def versions(client, function: str) -> int:
    """How many numbered versions ``function`` has (0 before its first deploy)."""
    count = 0
    try:
        for page in client.get_paginator("list_versions_by_function").paginate(
                FunctionName=function):
            count += sum(1 for v in page["Versions"] if v["Version"] != "$LATEST")
    except client.exceptions.ResourceNotFoundException:
        return 0
    return count


def edit_handler(pipeline: Pipeline, original: str, n: int) -> None:
    """A one-line code change: a new last line in the handler file."""
    pipeline.handler.write_text(f"{original}\nBENCHMARK_EDIT = {n}\n")


def renew_mtimes(pipeline: Pipeline) -> None:
    """What a fresh checkout does to unchanged files: same bytes, new mtimes."""
    now = time.time()
    for path in (pipeline.root / "src").rglob("*"):
        os.utime(path, (now, now))


def deploy(pipeline: Pipeline, client, kind: str, logs: Path) -> DeployRun:
    """Run one deploy to the end; any failure stops the benchmark with its output."""
    before = versions(client, pipeline.function)
    log = logs / f"{pipeline.name}-{kind}-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.run(pipeline.argv, cwd=pipeline.root, env=pipeline.env,
                              stdout=out, stderr=subprocess.STDOUT, timeout=600, check=False)
        seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"{pipeline.name} deploy ({kind}) exited {proc.returncode}:\n{tail}")
    durations: dict[str, float] = {}
    if pipeline.record is not None:
        durations = json.loads(pipeline.record.read_text()).get("durations", {})
    return DeployRun(pipeline.name, kind, seconds, versions(client, pipeline.function) - before,
                     durations)


def overhead(run: DeployRun) -> float:
    """A deploy's time that is lambda-gate's own: not terraform's, not pytest's."""
    d = run.durations
    return run.seconds - d.get("terraform", 0.0) - d.get("pytest", d.get("smoke", 0.0))


def _alternating(pipelines: Sequence[Pipeline], i: int) -> list[Pipeline]:
    return list(pipelines) if i % 2 == 0 else list(reversed(pipelines))


def run(deploys: int = 5, redeploys: int = 3, *,
        log: Callable[[str], None] = lambda _line: None) -> dict:
    """Warm both pipelines up with a first deploy, then time them turn about."""
    missing = missing_tools()
    if missing:
        raise RuntimeError(f"the pipeline benchmark needs {', '.join(missing)} on PATH")
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    logs = work / "logs"
    logs.mkdir()
    server = serve_in_thread(host="127.0.0.1", port=0, cache_dir=work / "code-cache")
    try:
        client = boto3.client("lambda", endpoint_url=server.url, region_name=REGION,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        pipelines = [make_plain(work, server.url), make_ours(work, server.url)]
        original = pipelines[0].handler.read_text()
        runs: list[DeployRun] = []
        for pipeline in pipelines:
            log(f"first deploy ({pipeline.name}), not counted")
            deploy(pipeline, client, "first", logs)
        for i in range(deploys):
            for pipeline in _alternating(pipelines, i):
                edit_handler(pipeline, original, i)
                runs.append(deploy(pipeline, client, "change", logs))
                log(f"code change {i + 1}/{deploys} ({pipeline.name}): "
                    f"{runs[-1].seconds:.1f}s")
        for i in range(redeploys):
            for pipeline in _alternating(pipelines, i):
                renew_mtimes(pipeline)
                runs.append(deploy(pipeline, client, "unchanged", logs))
                log(f"no change {i + 1}/{redeploys} ({pipeline.name}): "
                    f"{runs[-1].seconds:.1f}s")
    except BaseException:
        log(f"deploy logs kept in {logs}")
        raise
    finally:
        server.stop()
    shutil.rmtree(work, ignore_errors=True)
    return results(runs)


def results(runs: Sequence[DeployRun]) -> dict:
    """Figures, medians with spread, and goals, from the timed deploys."""

    def pick(pipeline: str, kind: str) -> list[DeployRun]:
        return [r for r in runs if r.pipeline == pipeline and r.kind == kind]

    seconds = {kind: {p: summary([r.seconds for r in pick(p, kind)]) for p in (OURS, PLAIN)}
               for kind in ("change", "unchanged")}
    published = {kind: {p: sum(r.published for r in pick(p, kind)) for p in (OURS, PLAIN)}
                 for kind in ("change", "unchanged")}
    changes = pick(OURS, "change")
    own = summary([overhead(r) for r in changes])
    terraform = summary([r.durations.get("terraform", 0.0) for r in changes])
    pytest = summary([r.durations.get("pytest", r.durations.get("smoke", 0.0))
                      for r in changes])
    ratio = {kind: seconds[kind][OURS]["median"] / seconds[kind][PLAIN]["median"]
             for kind in seconds}
    untested = summary([r.seconds - r.durations.get("pytest", r.durations.get("smoke", 0.0))
                        for r in changes])
    n_change, n_unchanged = len(changes), len(pick(OURS, "unchanged"))
    figures = [
        figure("deploy after a code change (s)", seconds["change"][OURS],
               seconds["change"][PLAIN], ratio["change"], f"<= {GOALS['change_ratio']}",
               ratio["change"] <= GOALS["change_ratio"]),
        figure("  its terraform processes (s)", terraform),
        figure("  the same without its smoke tests (s)", untested, seconds["change"][PLAIN],
               untested["median"] / seconds["change"][PLAIN]["median"]),
        figure("  its smoke tests, pytest (s)", pytest),
        figure(f"  versions published in {n_change} deploys", published["change"][OURS],
               published["change"][PLAIN]),
        figure("redeploy, nothing changed (s)", seconds["unchanged"][OURS],
               seconds["unchanged"][PLAIN], ratio["unchanged"],
               f"<= {GOALS['unchanged_ratio']}",
               ratio["unchanged"] <= GOALS["unchanged_ratio"]),
        figure(f"  versions published in {n_unchanged} redeploys",
               published["unchanged"][OURS], published["unchanged"][PLAIN], goal="ours 0",
               met=published["unchanged"][OURS] == 0),
        figure("lambda-gate's own overhead per deploy (s)", own,
               goal=f"< {GOALS['overhead_seconds']:g} s",
               met=own["median"] < GOALS["overhead_seconds"]),
    ]
    return {
        "seconds": seconds,
        "versions_published": published,
        "overhead_seconds": own,
        "terraform_seconds": terraform,
        "pytest_seconds": pytest,
        "without_smoke_seconds": untested,
        "ratios": ratio,
        "goals": GOALS,
        "runs": [r.__dict__ for r in runs],
        "figures": figures,
    }


def figure(name: str, ours: dict | float | None, baseline: dict | float | None = None,
           ratio: float | None = None, goal: str = "", met: bool | None = None) -> dict:
    """One row of the summary table; ``ours`` and ``baseline`` are summaries or counts."""
    return {"figure": name, "ours": ours, "baseline": baseline,
            "ratio": None if ratio is None else round(ratio, 3), "goal": goal, "met": met}


def main(argv: list[str]) -> None:
    deploys = int(argv[1]) if len(argv) > 1 else 5
    redeploys = int(argv[2]) if len(argv) > 2 else 3
    outcome = run(deploys, redeploys, log=print)
    save(RESULTS, outcome)
    for row in outcome["figures"]:
        print(json.dumps(row))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv)
