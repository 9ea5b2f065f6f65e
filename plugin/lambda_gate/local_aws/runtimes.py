"""Which local executable runs each Lambda runtime: the exact version, or none at all.

A ``python3.12`` function runs under a Python 3.12 and a ``nodejs20.x`` function under a
Node.js 20, never under whatever happens to be at hand: a package built with cp312
wheels fails in obscure ways under 3.11, and a smoke run that passes under the wrong
interpreter proves nothing about Lambda. Candidates come from the
``local_aws.interpreters`` setting (runtime -> executable; when given, the only
candidate), then PATH, then the usual version managers' install directories (pyenv,
asdf, uv; nvm, volta, fnm, n). Each candidate is checked by running it and asking its
version, because a version manager's shim is on PATH even for a version that is not
installed.

:func:`find_interpreter` answers an :class:`Interpreter` or raises
:class:`RuntimeUnavailable` with the message a user needs (which runtime, what was
tried, how to provide one). The pipeline can call it before a smoke run to say so early.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import Error
from .api_errors import ApiFault

_HERE = Path(__file__).resolve().parent
PYTHON_BOOTSTRAP = _HERE / "bootstrap_python.py"
NODE_BOOTSTRAP = _HERE / "bootstrap_node.js"
SETTING = "lambda_gate.local_aws.interpreters"
CHECK_TIMEOUT_S = 10.0

_PYTHON_RUNTIME = re.compile(r"^python(?P<version>3\.\d+)$")
_NODE_RUNTIME = re.compile(r"^nodejs(?P<version>\d+)\.x$")


class RuntimeUnavailable(Error):
    """No working interpreter of the exact version a runtime needs is available here."""

    exit_code = 2


@dataclass(frozen=True)
class Interpreter:
    """The executable that runs ``runtime``, and the version it reported when checked."""

    runtime: str
    language: str  # "python" or "node"
    executable: str
    version: str

    def command(self) -> list[str]:
        """The argv that starts this runtime's bootstrap (its pipe descriptors follow).

        Python runs isolated (``-I``: no PYTHON* variables, no user site, no script
        directory on sys.path) and without ``site`` (``-S``: no site-packages at all);
        the bootstrap sets sys.path itself.
        """
        if self.language == "python":
            return [self.executable, "-I", "-S", str(PYTHON_BOOTSTRAP)]
        return [self.executable, str(NODE_BOOTSTRAP)]


@dataclass(frozen=True)
class _Wanted:
    runtime: str
    language: str
    version: str  # "3.12" or "20"

    @property
    def label(self) -> str:
        return f"Python {self.version}" if self.language == "python" else \
            f"Node.js {self.version}"


def unsupported(runtime: str, why: str) -> ApiFault:
    return ApiFault(502, "InvalidRuntimeException",
                    f"The runtime {runtime!r} cannot run on lambda-gate's local AWS: {why}. "
                    "Use a python3.x or nodejs runtime, or test this function against a "
                    "real AWS account.")


def wanted(runtime: str | None) -> _Wanted:
    """The language and version a runtime name asks for; an API error for others."""
    runtime = runtime or ""
    if match := _PYTHON_RUNTIME.match(runtime):
        return _Wanted(runtime, "python", match["version"])
    if match := _NODE_RUNTIME.match(runtime):
        return _Wanted(runtime, "node", match["version"])
    raise unsupported(runtime or "(none)", "only python3.x and nodejsNN.x runtimes run locally")


def _version_key(path: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", Path(path).parent.parent.name)] or [0]


def _newest_first(pattern: str) -> list[str]:
    return sorted(glob.glob(os.path.expanduser(pattern)), key=_version_key, reverse=True)


def _candidates(want: _Wanted) -> Iterator[tuple[str, str]]:
    """(where it came from, executable) in the order they are tried."""
    if want.language == "python":
        name = f"python{want.version}"
        if found := shutil.which(name):
            yield "PATH", found
        pyenv = os.environ.get("PYENV_ROOT") or "~/.pyenv"
        for found in _newest_first(f"{pyenv}/versions/{want.version}.*/bin/{name}"):
            yield "pyenv", found
        for found in _newest_first(f"~/.asdf/installs/python/{want.version}.*/bin/{name}"):
            yield "asdf", found
        for found in _newest_first(f"~/.local/share/uv/python/cpython-{want.version}.*/bin/"
                                   f"{name}"):
            yield "uv", found
        for prefix in ("/usr/local/bin", "/usr/bin"):
            if os.access(f"{prefix}/{name}", os.X_OK):
                yield prefix, f"{prefix}/{name}"
        yield "the Python running the local AWS", sys.executable
        return
    major = want.version
    for name in (f"node{major}", "node"):
        if found := shutil.which(name):
            yield "PATH", found
    nvm = os.environ.get("NVM_DIR") or "~/.nvm"
    for found in _newest_first(f"{nvm}/versions/node/v{major}.*/bin/node"):
        yield "nvm", found
    for found in _newest_first(f"~/.volta/tools/image/node/{major}.*/bin/node"):
        yield "volta", found
    for found in _newest_first(f"~/.local/share/fnm/node-versions/v{major}.*/installation/"
                               "bin/node"):
        yield "fnm", found
    for found in _newest_first(f"/usr/local/n/versions/node/{major}.*/bin/node"):
        yield "n", found


def _probe(language: str, executable: str) -> tuple[str | None, str]:
    """("version path", "") when the executable runs, else (None, why not).

    The path is the interpreter's own, so a shim (a shell script per start for pyenv)
    is not in the way of every environment started later.
    """
    if language == "python":
        argv = [executable, "-I", "-S", "-c",
                "import sys; print('%d.%d.%d' % sys.version_info[:3], sys.executable)"]
    else:
        argv = [executable, "-e",
                "process.stdout.write(process.versions.node + ' ' + process.execPath)"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S,
                             check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if out.returncode != 0:
        said = (out.stderr or out.stdout).strip().splitlines()
        return None, f"exit status {out.returncode}" + (f": {said[-1]}" if said else "")
    return out.stdout.strip(), ""


def _matches(want: _Wanted, version: str) -> bool:
    parts = version.split(".")
    if want.language == "python":
        return ".".join(parts[:2]) == want.version
    return parts[0] == want.version


_found: dict[tuple[str, str | None], Interpreter] = {}
_found_lock = threading.Lock()


def find_interpreter(runtime: str | None, configured: Mapping[str, str] | None = None
                     ) -> Interpreter:
    """The checked interpreter for ``runtime``; raises :class:`RuntimeUnavailable`.

    A working answer is remembered for the process; a failure is not, so installing
    an interpreter takes effect on the next invocation.
    """
    want = wanted(runtime)
    chosen = (configured or {}).get(want.runtime)
    key = (want.runtime, chosen)
    with _found_lock:
        if key in _found:
            return _found[key]
    tried: list[str] = []
    candidates = [("the setting", chosen)] if chosen else list(_candidates(want))
    for source, executable in candidates:
        answer, why = _probe(want.language, executable)
        if answer is None:
            tried.append(f"{executable} ({source}): does not run, {why}")
            continue
        version, _, own_path = answer.partition(" ")
        if not _matches(want, version):
            tried.append(f"{executable} ({source}): is {version}")
            continue
        found = Interpreter(want.runtime, want.language, own_path or executable, version)
        with _found_lock:
            _found[key] = found
        return found
    raise RuntimeUnavailable(_missing_message(want, chosen, tried))


def _missing_message(want: _Wanted, chosen: str | None, tried: list[str]) -> str:
    if chosen:
        head = (f"the {want.runtime} interpreter set in {SETTING} cannot run it: "
                f"{'; '.join(tried)}.")
    else:
        head = (f"no {want.label} interpreter found for runtime {want.runtime}"
                + (f" (tried {'; '.join(tried)})" if tried else "") + ".")
    if want.language == "python":
        how = (f"Install Python {want.version} (for example `pyenv install {want.version}`), "
               f"put python{want.version} on PATH, or set {SETTING} to "
               f"{{{want.runtime}: /path/to/python{want.version}}}")
    else:
        how = (f"Install Node.js {want.version} (for example `nvm install {want.version}`), "
               f"put it on PATH as node or node{want.version}, or set {SETTING} to "
               f"{{{want.runtime}: /path/to/node}}")
    return (f"{head} {how}. The local AWS runs a function only under its runtime's "
            "exact version, as Lambda does.")
