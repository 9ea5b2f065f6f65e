"""Deploys from fresh CI clones, next to the plain pipeline and a warm clone, in one run.

A team repository (the example service, its terraform configuration with
``backend "s3" {}``, an environment ``ci`` whose state is in an S3 bucket with
``use_lockfile``) lives in a git repository on an embedded local AWS. After one
uncounted first deploy from a clone that is then kept (the warm clone), each round
measures, taking turns:

1. **fresh clone, unchanged code**: a new ``git clone`` at a new path runs
   ``invoke deploy --env ci``; it has no build cache, no terraform data and no record of
   any apply. Against it, the plain pipeline (``plain_pipeline/deploy.sh``) redeploys
   unchanged code after a checkout renewed its mtimes: a full terraform apply, which
   publishes a version. Goal: ours under 1.5 s and 0 versions published.
2. **code change, fresh clone against warm clone**: a one-line change is committed; a
   new clone deploys it. Another change is committed; the warm clone pulls and deploys
   it. Each publishes one version. Goal: the fresh clone at most 10 % slower.

    python benchmarks/bench_ci.py [REPEATS]

prints the figures and writes benchmarks/results/ci.json; ``run(repeats)`` returns the
same dict. Needs terraform, git, and for the plain pipeline bash, zip, jq and the AWS
CLI; without registry access export ``INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR`` first.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO / "plugin") not in sys.path:
    sys.path.insert(0, str(REPO / "plugin"))

import boto3  # noqa: E402
from bench_pipeline import (  # noqa: E402
    _base_env,
    edit_handler,
    make_plain,
    renew_mtimes,
    summary,
    versions,
)
from bench_pipeline import deploy as plain_deploy  # noqa: E402
from results_file import save  # noqa: E402

from lambda_gate.local_aws.server import serve_in_thread  # noqa: E402

RESULTS = HERE / "results" / "ci.json"
FUNCTION = "bench-ci"
BUCKET = "bench-tf-state"
GOALS = {"fresh_unchanged_seconds": 1.5, "fresh_vs_warm_change": 1.10}
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def backend_file(endpoint: str) -> str:
    port = endpoint.rsplit(":", 1)[1]
    return (f'bucket = "{BUCKET}"\nkey = "lambda/{FUNCTION}/ci.tfstate"\n'
            'region = "us-east-1"\nencrypt = true\nuse_lockfile = true\n'
            f'use_path_style = true\nendpoints = {{\n  s3 = "http://127.0.0.1:{port}"\n}}\n'
            "skip_credentials_validation = true\nskip_requesting_account_id = true\n"
            "skip_metadata_api_check = true\nskip_region_validation = true\n"
            'access_key = "testing"\nsecret_key = "testing"\n')


def make_origin(work: Path, endpoint: str) -> Path:
    origin = work / "origin"
    for part in ("src", "smoke", "terraform"):
        shutil.copytree(REPO / part, origin / part, ignore=shutil.ignore_patterns(
            ".terraform*", "__pycache__", "*.tfstate*"))
    shutil.copy(REPO / "tasks.py", origin / "tasks.py")
    (origin / "terraform" / "backend.tf").write_text('terraform {\n  backend "s3" {}\n}\n')
    (origin / "terraform" / "backend" / "ci.s3.hcl").write_text(backend_file(endpoint))
    (origin / "invoke.yaml").write_text(
        "lambda_gate:\n"
        f"  terraform:\n    vars: {{function_name: {FUNCTION}}}\n"
        "  environments:\n    ci:\n"
        "      role_arn: arn:aws:iam::123456789012:role/bench-ci\n"
        "      backend_config: terraform/backend/ci.s3.hcl\n"
        "      protected: ''\n")
    (origin / ".gitignore").write_text(".lambda-gate/\nbuild/\n__pycache__/\n")
    git(work, "init", "-q", "-b", "main", str(origin))
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "service")
    return origin


class Clones:
    """Fresh clones of the origin, each at a new path."""

    def __init__(self, work: Path, origin: Path) -> None:
        self.work, self.origin, self.count = work, origin, 0

    def fresh(self) -> Path:
        self.count += 1
        root = self.work / f"clone-{self.count}" / ("x" * (self.count % 7)) / "repo"
        root.parent.mkdir(parents=True)
        git(self.work, "clone", "-q", str(self.origin), str(root))
        return root

    def commit_change(self, n: int) -> None:
        handler = self.origin / "src" / "app.py"
        handler.write_text(handler.read_text() + f"\nBENCHMARK_EDIT = {n}\n")
        git(self.origin, "commit", "-q", "-am", f"change {n}")


def ours(root: Path, env: dict[str, str], client) -> dict:
    before = versions(client, FUNCTION)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "invoke", "deploy", "--env", "ci"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise RuntimeError(f"deploy in {root} exited {proc.returncode}:\n{tail}")
    return {"seconds": seconds, "published": versions(client, FUNCTION) - before,
            "skipped": "skipped terraform" in proc.stdout}


def run(repeats: int = 3) -> dict:
    for tool in ("terraform", "git"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not on PATH.")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-ci-") as tmp:
        work = Path(tmp)
        server = serve_in_thread(host="127.0.0.1", port=0, cache_dir=work / "code-cache")
        try:
            kw = {"endpoint_url": server.url, "region_name": "us-east-1",
                  "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
            boto3.client("s3", **kw).create_bucket(Bucket=BUCKET)
            client = boto3.client("lambda", **kw)
            env = _base_env(server.url)
            env.pop("GIT_BRANCH", None)
            clones = Clones(work, make_origin(work, server.url))
            warm = clones.fresh()
            ours(warm, env, client)  # creates the function; the warm clone keeps its data
            plain = make_plain(work, server.url)
            logs = work / "logs"
            logs.mkdir()
            plain_original = plain.handler.read_text()
            plain_deploy(plain, client, "first", logs)
            fresh_unchanged, plain_unchanged, fresh_change, warm_change = [], [], [], []
            for n in range(repeats):
                pair = [lambda: fresh_unchanged.append(ours(clones.fresh(), env, client)),
                        lambda: (renew_mtimes(plain), plain_unchanged.append(
                            plain_deploy(plain, client, "unchanged", logs)))]
                for step in (pair if n % 2 == 0 else pair[::-1]):
                    step()

                def fresh(n: int = n) -> None:
                    clones.commit_change(2 * n)
                    fresh_change.append(ours(clones.fresh(), env, client))

                def warm_deploy(n: int = n) -> None:
                    clones.commit_change(2 * n + 1)
                    git(warm, "pull", "-q", "--ff-only")
                    warm_change.append(ours(warm, env, client))

                for step in ((fresh, warm_deploy) if n % 2 == 0 else (warm_deploy, fresh)):
                    step()
            edit_handler(plain, plain_original, 0)  # leaves the copy as it was measured
        finally:
            server.stop()
    return _results(fresh_unchanged, plain_unchanged, fresh_change, warm_change)


def _results(fresh_unchanged, plain_unchanged, fresh_change, warm_change) -> dict:
    unchanged = summary([d["seconds"] for d in fresh_unchanged])
    plain = summary([d.seconds for d in plain_unchanged])
    fresh = summary([d["seconds"] for d in fresh_change])
    warm = summary([d["seconds"] for d in warm_change])
    published = [d["published"] for d in fresh_unchanged]
    ratio_change = fresh["median"] / warm["median"]
    met_unchanged = (unchanged["median"] < GOALS["fresh_unchanged_seconds"]
                     and not any(published) and all(d["skipped"] for d in fresh_unchanged))
    results = {
        "seconds": {"fresh_unchanged": unchanged, "plain_unchanged": plain,
                    "fresh_change": fresh, "warm_change": warm},
        "published": {"fresh_unchanged": published,
                      "plain_unchanged": [d.published for d in plain_unchanged],
                      "fresh_change": [d["published"] for d in fresh_change],
                      "warm_change": [d["published"] for d in warm_change]},
        "ratios": {"fresh_unchanged_vs_plain": round(unchanged["median"] / plain["median"], 3),
                   "fresh_vs_warm_change": round(ratio_change, 3)},
        "goals": GOALS,
        "met": {"fresh_unchanged": met_unchanged,
                "fresh_vs_warm_change": ratio_change <= GOALS["fresh_vs_warm_change"]},
    }
    results["figures"] = [
        _row("CI: fresh clone, unchanged code vs plain pipeline (s)", unchanged, plain,
             unchanged["median"] / plain["median"],
             f"< {GOALS['fresh_unchanged_seconds']} s, 0 versions", met_unchanged),
        _row("  versions published: fresh clone unchanged / plain",
             sum(published), sum(d.published for d in plain_unchanged), None),
        _row("CI: code change, fresh clone vs warm clone (s)", fresh, warm, ratio_change,
             f"<= {GOALS['fresh_vs_warm_change']}",
             results["met"]["fresh_vs_warm_change"]),
    ]
    save(RESULTS, results)
    return results


def _row(figure: str, ours_value, baseline, ratio: float | None, goal: str = "",
         met: bool | None = None) -> dict:
    return {"figure": figure, "ours": ours_value, "baseline": baseline,
            "ratio": None if ratio is None else round(ratio, 3), "goal": goal, "met": met}


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    print(json.dumps({"seconds": result["seconds"], "published": result["published"],
                      "ratios": result["ratios"], "met": result["met"]}, indent=2))
