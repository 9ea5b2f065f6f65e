"""A service of two functions deployed as one unit, next to two single-function deploys.

Both sides run on one embedded local AWS, in the same run, taking turns. Ours is
``invoke deploy`` of the two-function example service (``tests/service/example``: an
HTTP API and a worker sharing ``common/``) after a one-line change to the shared code,
so both functions are rebuilt, published by one ``terraform apply``, smoke-tested
against their own new versions (two pytest processes at once) and promoted together.
The baseline is what a team does without units: two repositories of the single-function
example service (``src/``, ``smoke/``, the reference ``terraform/``), each deployed in
turn with ``invoke deploy`` after a one-line change. Each project has one untimed
first deploy (it creates the functions and initialises terraform). Goal: the unit
deploy under 0.6 of the two sequential deploys.

    python benchmarks/bench_service.py [REPEATS]

prints the figures and writes benchmarks/results/service.json; ``run(repeats)`` returns
the same dict. Without registry access, export ``INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR``
(a provider mirror) first.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO / "plugin") not in sys.path:
    # Measure this checkout's lambda-gate, whichever copy is installed.
    sys.path.insert(0, str(REPO / "plugin"))

from bench_noop import _row, make_project, summary  # noqa: E402
from results_file import save  # noqa: E402

from lambda_gate.local_aws.server import serve_in_thread  # noqa: E402

RESULTS = HERE / "results" / "service.json"
EXAMPLE = REPO / "tests" / "service" / "example"
GOAL = 0.6


def _project(root: Path, endpoint: str, tf_vars: str, service: bool) -> dict[str, str]:
    root.mkdir()
    env = make_project(root, endpoint)
    if service:
        for part in ("src", "smoke", "terraform"):
            shutil.rmtree(root / part)
        shutil.copytree(EXAMPLE, root, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".terraform*", "__pycache__"))
    (root / "invoke.yaml").write_text(f"lambda_gate:\n  terraform:\n    vars: {tf_vars}\n")
    return env


def _deploy(root: Path, env: dict[str, str]) -> dict:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "invoke", "deploy"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise RuntimeError(f"deploy in {root.name} exited {proc.returncode}:\n{tail}")
    reports = root / ".lambda-gate" / "reports"
    record = reports / ("deploy-record-api.json" if (reports / "deploy-record-api.json")
                        .exists() else "deploy-record.json")
    return {"seconds": seconds, "output": proc.stdout,
            "terraform": json.loads(record.read_text())["durations"].get("terraform", 0.0)}


def _edit(path: Path, n: int) -> None:
    text = path.read_text().split("\nBENCHMARK_EDIT = ")[0]
    path.write_text(f"{text}\nBENCHMARK_EDIT = {n}\n")


def run(repeats: int = 3, log=print) -> dict:
    if shutil.which("terraform") is None:
        raise RuntimeError("terraform is not on PATH: install Terraform 1.5+ first.")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        work = Path(tmp)
        server = serve_in_thread(host="127.0.0.1", port=0, cache_dir=work / "code-cache")
        try:
            unit = work / "unit"
            unit_env = _project(unit, server.url, "{prefix: bench-unit}", service=True)
            singles = {name: work / name for name in ("bench-single-a", "bench-single-b")}
            single_env = {name: _project(root, server.url, f"{{function_name: {name}}}",
                                         service=False) for name, root in singles.items()}
            _deploy(unit, unit_env)
            for name, root in singles.items():
                _deploy(root, single_env[name])
            units, pairs, unit_tf, single_tf = [], [], [], []
            for n in range(repeats):
                _edit(unit / "common" / "__init__.py", n)
                done = _deploy(unit, unit_env)
                if "promoted main as a unit: api" not in done["output"] or (
                        ", worker " not in done["output"]):
                    raise RuntimeError(f"the unit deploy did not promote both:\n"
                                       f"{done['output'][-2000:]}")
                units.append(done["seconds"])
                unit_tf.append(done["terraform"])
                pair = 0.0
                for name, root in singles.items():
                    _edit(root / "src" / "app.py", n)
                    one = _deploy(root, single_env[name])
                    pair += one["seconds"]
                    single_tf.append(one["terraform"])
                pairs.append(pair)
                log(f"round {n + 1}: unit {units[-1]:.1f}s, two single deploys {pair:.1f}s")
        finally:
            server.stop()
    ours, baseline = summary(units), summary(pairs)
    ratio = ours["median"] / baseline["median"]
    results = {
        "seconds": {"unit_deploy": ours, "two_single_deploys": baseline,
                    "terraform_in_unit": summary(unit_tf),
                    "terraform_per_single": summary(single_tf)},
        "ratios": {"unit_vs_two_singles": round(ratio, 3)},
        "goals": {"unit_vs_two_singles": GOAL},
        "met": {"unit_vs_two_singles": ratio < GOAL},
    }
    results["figures"] = [
        _row("deploy 2 changed functions: one unit vs 2 single deploys (s)", ours, baseline,
             ratio, f"< {GOAL}", ratio < GOAL),
        _row("  terraform: the unit's one apply vs one single apply (s)",
             results["seconds"]["terraform_in_unit"],
             results["seconds"]["terraform_per_single"],
             summary(unit_tf)["median"] / summary(single_tf)["median"]),
    ]
    save(RESULTS, results)
    return results


def main(argv: list[str]) -> None:
    results = run(int(argv[1]) if len(argv) > 1 else 3)
    for figure in results["figures"]:
        print(f"{figure['figure']}: ours {figure['ours']['median']}s, baseline "
              f"{figure['baseline']['median']}s, ratio {figure['ratio']}")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main(sys.argv)
