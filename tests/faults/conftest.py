"""Fault tests: real processes, real signals, real HTTP between the deploy and AWS."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
