"""What a version under test must run, and what the last apply published.

The smoke tests vouch for code, so the version they test must run the code this job
built, or the code the apply that published it recorded; checked against the version
itself it would prove nothing. A fresh CI job reads the last apply from this machine
(``last-apply.json``) or, with ``records_url``, from the shared store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .. import record_store
from ..build import code_sha256
from ..errors import Error
from ..publish import Published
from ..settings import LAST_APPLY, Settings


@dataclass(frozen=True)
class ExpectedCode:
    """The CodeSha256 a version under test must have, and what says so."""

    code_sha256: str
    source: str


def expected_code(settings: Settings, store: record_store.RecordStore,
                  published: Published) -> ExpectedCode:
    """What the version must run: this job's build, else the record of the apply that
    published it (the last apply, here or shared, or a deploy's record), never the
    version itself, which would check nothing."""
    artifact = settings.build.artifact
    if artifact.is_file():
        return ExpectedCode(code_sha256(artifact), f"this job's build ({artifact})")
    last = last_apply(settings, store)
    outputs = (last or {}).get("outputs") or {}
    if (str(outputs.get("version")) == published.version
            and isinstance(last.get("artifact_sha256"), str)):
        return ExpectedCode(last["artifact_sha256"],
                            f"the artifact of the apply that published it ({LAST_APPLY})")
    for record in store.records_of(published.function_name, published.version):
        if record.artifact_sha256:
            return ExpectedCode(record.artifact_sha256,
                                "the artifact of the deploy that published it (its record)")
    raise Error(
        f"nothing here says which code version {published.version} should run: there is "
        f"no build in this job ({artifact}) and no record of the apply that published it. "
        "Run `invoke build` in this job, from the commit that published the version, or "
        "run the smoke tests in the job that applied it.")


def last_apply(settings: Settings, store: record_store.RecordStore) -> dict | None:
    """The environment's last apply: this machine's, else the shared one."""
    last = settings.last_apply_path
    try:
        data = json.loads(last.read_text()) if last.exists() else store.last_apply()
        if data is not None and data["outputs"]["version"] is None:
            raise TypeError
        return data
    except (OSError, ValueError, KeyError, TypeError):
        raise Error(f"{last} is damaged (not what `invoke apply` writes): run `invoke "
                    "apply` (or `invoke deploy`) to write it again, or pass "
                    "--version.") from None


def last_applied_version(settings: Settings, store: record_store.RecordStore
                         ) -> str | None:
    """The version of the environment's last apply: this machine's, else the shared one."""
    data = last_apply(settings, store)
    return str(data["outputs"]["version"]) if data is not None else None
