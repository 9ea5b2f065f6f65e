"""Where each benchmark's results go: ``benchmarks/results/<name>.json``."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def save(path: Path, results: dict) -> Path:
    """Write ``results`` as indented JSON to ``path``, making its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return path
