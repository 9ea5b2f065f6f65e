"""All of lambda-gate's benchmarks in one run, one table.

    python benchmarks/run.py [--quick]

Runs the pipeline benchmark (``bench_pipeline``: ``invoke deploy`` next to the plain
shell pipeline on one local AWS), then each other ``bench_*`` module's ``run()``, and
prints one table: figure, ours, baseline, ratio, goal, met. Times are medians with
their spread (min-max) over the runs, measured side by side in this one run; compare
ratios between machines, not seconds. The table, the machine it ran on and every
module's full results go to ``benchmarks/results/summary.json`` (and each module's
own ``results/<name>.json``). A module that is missing or fails gets a row saying
so; the others still run.

Without registry access, export ``INVOKE_LAMBDA_GATE_TERRAFORM_PLUGIN_DIR`` (a
terraform provider mirror) first; both pipelines use it.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from results_file import save  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SUMMARY = HERE / "results" / "summary.json"

#: Each benchmark module and its arguments: (full run, --quick).
BENCHMARKS: dict[str, tuple[dict, dict]] = {
    "bench_pipeline": ({"deploys": 3, "redeploys": 3}, {"deploys": 1, "redeploys": 1}),
    "bench_noop": ({"repeats": 3}, {"repeats": 1}),
    "bench_ci": ({"repeats": 3}, {"repeats": 1}),
    "bench_service": ({"repeats": 3}, {"repeats": 1}),
    "bench_build": ({"repeats": 5}, {"repeats": 2}),
    "bench_invoke": ({"n": 30}, {"n": 10}),
    "bench_fixture": ({"n": 30}, {"n": 10}),
    "bench_prune": ({"versions": 2000}, {"versions": 200}),
}


# -- the machine -----------------------------------------------------------------------

def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "not found"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def machine() -> dict[str, object]:
    """What the figures depend on: CPU, cores, load, and the tools' versions."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "terraform": _first_line(["terraform", "version"]),
        "aws_cli": _first_line(["aws", "--version"]),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


# -- rows of the table from each module's results ---------------------------------------

def row(figure: str, ours, baseline=None, ratio: float | None = None, goal: str = "",
        met: bool | None = None) -> dict:
    return {"figure": figure, "ours": ours, "baseline": baseline,
            "ratio": None if ratio is None else round(ratio, 3), "goal": goal, "met": met}


def rows_build(r: dict) -> list[dict]:
    s, goals = r["seconds"], r["goals"]
    tree = r["tree"]
    size = f"{tree['bytes'] / 1e6:.0f} MB, {tree['files']:,} files"
    return [
        row(f"build {size}: full build vs zip -r -q (s)", s["full_build"], s["zip_r_q"],
            r["ratios"]["full_build_vs_zip"], f"<= {goals['full_build_vs_zip']}",
            r["met"]["full_build_vs_zip"]),
        row("build: cache hit vs full build (s)", s["cache_hit"], s["full_build"],
            r["ratios"]["cache_hit_vs_full_build"], f"<= {goals['cache_hit_vs_full_build']}",
            r["met"]["cache_hit_vs_full_build"]),
    ]


def _ms(stats: dict) -> dict:
    """A latency summary in our cells' shape, from a module's ``*_ms`` statistics."""
    cell = {"median": stats["median_ms"], "runs": stats.get("n")}
    if "min_ms" in stats:
        cell.update(min=stats["min_ms"], max=stats["max_ms"])
    elif "p95_ms" in stats:
        cell["p95"] = stats["p95_ms"]
    return cell


def rows_invoke(r: dict) -> list[dict]:
    rows = []
    for runtime, e in r["runtimes"].items():
        if "list_functions" in e:
            rows.append(row(f"local invoke {runtime}: warm vs ListFunctions (ms)",
                            _ms(e["warm"]), _ms(e["list_functions"]), e["warm_over_list"],
                            f"<= {r['goal_warm_over_list']}", e["meets_goal"]))
        rows.append(row(f"local invoke {runtime}: cold start vs warm (ms)", _ms(e["cold"]),
                        _ms(e["warm"]), e["cold_over_warm"]))
    return rows


def rows_fixture(r: dict) -> list[dict]:
    kinds = r["kinds"]
    return [
        row("lambda_invoke fixture vs bare boto3 invoke (ms)", _ms(kinds["lambda_invoke"]),
            _ms(kinds["bare"]), kinds["lambda_invoke"]["over_bare"],
            f"<= {r['goal_ratio']}", r["meets_goal"]),
        row("lambda_http fixture vs bare boto3 invoke (ms)", _ms(kinds["lambda_http"]),
            _ms(kinds["bare"]), kinds["lambda_http"]["over_bare"]),
    ]


def rows_prune(r: dict) -> list[dict]:
    ours, naive = r["ours"], r["naive"]
    n = r["versions"]
    return [
        row(f"prune {n} versions: time, one run (s)", ours["seconds"], naive["seconds"],
            ours["seconds"] / naive["seconds"]),
        row(f"prune {n} versions: API calls", ours["api_calls"], naive["api_calls"],
            ours["api_calls"] / naive["api_calls"]),
    ]


def rows_generic(r: dict) -> list[dict]:
    """Rows for a module without its own adapter: its ratios against its goals."""
    goals, met = r.get("goals", {}), r.get("met", {})
    return [row(name, None, None, ratio, f"<= {goals[name]}" if name in goals else "",
                met.get(name))
            for name, ratio in r.get("ratios", {}).items() if isinstance(ratio, float)]


ADAPTERS: dict[str, Callable[[dict], list[dict]]] = {
    "bench_build": rows_build,
    "bench_invoke": rows_invoke,
    "bench_fixture": rows_fixture,
    "bench_prune": rows_prune,
}


def rows_for(name: str, result: dict) -> list[dict]:
    """A module's rows: its own ``figures`` if it gives them, else its adapter's."""
    if isinstance(result.get("figures"), list):
        return result["figures"]
    try:
        rows = ADAPTERS.get(name, rows_generic)(result)
    except (KeyError, TypeError, ZeroDivisionError) as exc:
        return [note_row(name, f"results not understood ({exc!r}): see results/*.json")]
    return rows or [note_row(name, "ran; see its results file")]


def note_row(name: str, note: str) -> dict:
    return {"figure": f"{name}: {note}", "ours": None, "baseline": None, "ratio": None,
            "goal": "", "met": None}


# -- running the modules ----------------------------------------------------------------

def run_module(name: str, kwargs: dict) -> tuple[dict | None, list[dict], float]:
    """Import and run one benchmark; a missing or failing one becomes a note row."""
    started = time.perf_counter()
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None, [note_row(name, "not present, skipped")], 0.0
        return None, [note_row(name, f"cannot be imported: {exc}")], 0.0
    except Exception as exc:  # one broken benchmark must not hide the others
        return None, [note_row(name, f"cannot be imported: {exc!r}")], 0.0
    if "log" in inspect.signature(module.run).parameters:
        kwargs = {**kwargs, "log": lambda line: print(f"  {line}", flush=True)}
    try:
        result = module.run(**kwargs)
    except Exception as exc:  # as above
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        return None, [note_row(name, f"failed: {type(exc).__name__}: {first}")], \
            time.perf_counter() - started
    seconds = time.perf_counter() - started
    target = getattr(module, "RESULTS", None)
    if isinstance(target, Path):
        save(target, result)
    return result, rows_for(name, result), seconds


# -- the table ----------------------------------------------------------------------------

def cell(value) -> str:
    """A figure as ``median (min-max)``, a count, or a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    median = _num(value["median"])
    if "min" in value and "max" in value and value.get("runs", 2) != 1:
        return f"{median} ({_num(value['min'])}-{_num(value['max'])})"
    if "p95" in value:
        return f"{median} (p95 {_num(value['p95'])})"
    return median


def _num(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def table(rows: list[dict]) -> str:
    header = ("figure", "ours", "baseline", "ratio", "goal", "met?")
    lines = [[r["figure"], cell(r["ours"]), cell(r["baseline"]),
              "-" if r["ratio"] is None else f"{r['ratio']:.2f}", r["goal"] or "-",
              {True: "yes", False: "NO", None: "-"}[r["met"]]] for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=True)]

    def fmt(values) -> str:
        first = f"{values[0]:<{widths[0]}}"
        rest = [f"{v:>{w}}" for v, w in zip(values[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *map(fmt, lines)])


def describe(m: dict) -> str:
    return (f"{m['date']}; {m['cpu']}, {m['cores']} cores; {m['os']}; Python {m['python']}; "
            f"{m['terraform']}; {m['aws_cli']}; load average at start "
            f"{', '.join(map(str, m['load_average_at_start']))}, at end "
            f"{', '.join(map(str, m['load_average_at_end']))}; took {m['seconds']:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats: checks that everything runs, not for figures")
    args = parser.parse_args(argv)
    # Measure this checkout, whichever lambda-gate is installed; import the benchmarks.
    for path in (str(HERE), str(REPO / "plugin")):
        if path not in sys.path:
            sys.path.insert(0, path)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the local AWS's access log

    started = time.perf_counter()
    info = machine()
    rows: list[dict] = []
    results: dict[str, object] = {}
    for name, (full, quick) in BENCHMARKS.items():
        kwargs = quick if args.quick else full
        print(f"running {name} {kwargs or ''}".rstrip(), flush=True)
        result, module_rows, seconds = run_module(name, kwargs)
        if result is not None:
            results[name] = result
            print(f"  done in {seconds:.0f} s", flush=True)
        else:
            print(f"  {module_rows[0]['figure']}", flush=True)
        rows += module_rows
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    info["seconds"] = round(time.perf_counter() - started, 1)
    info["quick"] = args.quick

    text = table(rows)
    print()
    print(text)
    print()
    print(f"machine: {describe(info)}")
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps({"machine": info, "table": rows, "text": text,
                                   "results": results}, indent=2) + "\n", encoding="utf-8")
    print(f"written to {SUMMARY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
