"""Files written whole or not at all: a reader never sees half a file, a crash leaves none.

Write to a temporary file in the same directory, then rename it over the target; the
rename is atomic on one filesystem. The temporary file is removed if anything fails.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, creating its directory if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as compact JSON."""
    write_text(path, json.dumps(data, separators=(",", ":")))
