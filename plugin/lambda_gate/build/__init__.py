"""The build stage: the function's source in, a reproducible zip out.

Takes :class:`~lambda_gate.settings.BuildSettings`; gives a :class:`BuildResult` (path,
CodeSha256, sizes, fingerprint). The same inputs give the same bytes, so terraform sees
a change only when the code does. Modules: :mod:`.package` (the build), :mod:`.files`
(which files), :mod:`.staging` with :mod:`.pip` and :mod:`.npm` (dependencies),
:mod:`.handler_check`, :mod:`.archive` (the zip), :mod:`.cache` and :mod:`.snapshot`
(reuse without rebuilding).
"""

from .archive import code_sha256
from .cache import CACHE_KEEP, BuildResult
from .package import build_package

__all__ = ["CACHE_KEEP", "BuildResult", "build_package", "code_sha256"]
