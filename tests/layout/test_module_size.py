"""No module of the package is over 400 lines.

A module that keeps growing ends up doing several things, and then every change to one
of them has to be read against all the others. The limit is counted as ``wc -l`` counts
(newlines), so what a person sees in a terminal is what the test sees. A module that
reaches it is split by what its parts do, each part a module with a docstring saying why
it exists, rather than trimmed to pass.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "plugin" / "lambda_gate"
LIMIT = 400


def oversized(package: Path, limit: int = LIMIT) -> list[str]:
    """Each module under ``package`` longer than ``limit`` lines, as ``path: N lines``."""
    found = []
    for module in sorted(package.rglob("*.py")):
        lines = module.read_bytes().count(b"\n")
        if lines > limit:
            found.append(f"{module.relative_to(package.parent)}: {lines} lines")
    return found


def test_no_module_of_the_package_is_over_400_lines() -> None:
    assert (PACKAGE / "config.py").is_file()  # the walk below looks where the code is
    too_long = oversized(PACKAGE)
    assert not too_long, (f"over {LIMIT} lines, split by what the parts do: "
                          + "; ".join(too_long))


def test_a_module_over_the_limit_is_named_with_its_length(tmp_path: Path) -> None:
    package = tmp_path / "lambda_gate"
    (package / "publish").mkdir(parents=True)
    (package / "publish" / "long.py").write_text("x = 1\n" * (LIMIT + 1))
    (package / "at_limit.py").write_text("x = 1\n" * LIMIT)
    # the last line without its newline does not count, as for wc -l
    (package / "unterminated.py").write_text("x = 1\n" * LIMIT + "y = 2")

    assert oversized(package) == [f"lambda_gate/publish/long.py: {LIMIT + 1} lines"]
