"""The apply step of a service of several functions: one terraform apply publishes them.

lambda-gate passes every function's artifact and settings in one map variable,
``TF_VAR_functions`` (``{key: {artifact_path, runtime, handler, architecture}}``), and
reads back one map output, ``functions`` (``{key: {function_name, version,
qualified_arn}}``). Every function is in the map on every apply, whichever functions a
task works on, so terraform never sees one disappear. Reproducible packages make the
rest follow: a function whose package did not change keeps its version, and only the
changed ones publish.

As for one function (:mod:`.apply`), the apply is skipped when nothing it depends on
changed since the last one and Lambda confirms, function by function, that each
version and ``$LATEST`` hold the built code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..aws import AwsTarget
from ..errors import TerraformError
from ..report import Reporter
from ..settings import ServiceFunction, Settings
from . import unit_preflight
from .apply import (
    Published,
    _latest_modified,
    check_configuration,
    inputs_fingerprint,
    live_code_sha256,
    published_version,
    run_apply,
    terraform_for,
    working_dir,
)
from .terraform import Terraform, TerraformOutputs, outputs_from


def unit_variables(functions: Sequence[ServiceFunction], config_dir: Path) -> dict[str, str]:
    """The ``functions`` variable: each key's artifact and settings, as JSON (which
    terraform reads as an HCL object). Artifact paths are relative to terraform's
    working directory, as for one function: the state records them as given, and a
    clone at another path must plan no change."""
    value = {fn.key: {"artifact_path": os.path.relpath(fn.build.artifact, config_dir),
                      "runtime": fn.function.runtime, "handler": fn.function.handler,
                      "architecture": fn.function.architecture} for fn in functions}
    return {unit_preflight.FUNCTIONS: json.dumps(value, sort_keys=True)}


def unit_terraform(settings: Settings, target: AwsTarget, reporter: Reporter) -> Terraform:
    """terraform for the service: every function's artifact in ``var.functions``."""
    return terraform_for(settings, target, reporter, settings.build.artifact,
                         variables=unit_variables(settings.functions,
                                                  working_dir(settings)))


def unit_outputs(raw: Mapping[str, object], keys: Sequence[str], *,
                 source: str) -> dict[str, TerraformOutputs]:
    """The ``functions`` output, checked: each configured key with a published version."""
    value = raw.get(unit_preflight.FUNCTIONS)
    if not isinstance(value, Mapping):
        raise TerraformError(
            f"terraform's outputs ({source}) lack a map output \"functions\": the "
            "configuration must output each key's function_name, version and "
            "qualified_arn (see \"Several functions\" in lambda-gate's README)."
        )
    missing = [key for key in keys if not isinstance(value.get(key), Mapping)]
    if missing:
        raise TerraformError(
            f"terraform's output \"functions\" ({source}) has no entry for "
            f"{', '.join(missing)}: its keys must be those of lambda_gate.functions "
            "(for_each = var.functions gives them)."
        )
    return {key: outputs_from(value[key], source=f"{source}, functions.{key}")
            for key in keys}


def _last_apply(settings: Settings) -> dict:
    try:
        data = json.loads(settings.last_apply_path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def last_versions(settings: Settings) -> dict[str, dict[str, str]]:
    """Each key's ``function_name``, ``version`` and ``qualified_arn`` from the
    environment's last service apply; empty when there is none."""
    found = (_last_apply(settings).get("outputs") or {}).get(unit_preflight.FUNCTIONS)
    return dict(found) if isinstance(found, Mapping) else {}


def _unchanged(settings: Settings, target: AwsTarget, fingerprint: str,
               shas: Mapping[str, str]) -> dict[str, TerraformOutputs] | None:
    data = _last_apply(settings)
    if data.get("fingerprint") != fingerprint:
        return None
    try:
        outputs = unit_outputs(data["outputs"], list(shas), source=str(settings.last_apply_path))
    except (KeyError, TypeError, TerraformError):
        return None
    client = target.client("lambda")
    modified = data.get("latest_modified") or {}
    for key, out in outputs.items():
        for qualifier in (out.version, "$LATEST"):
            if live_code_sha256(client, out.function_name, qualifier) != shas[key]:
                return None
        # A configuration changed outside terraform moves $LATEST's LastModified.
        if modified.get(key) != _latest_modified(client, out.function_name):
            return None
    return outputs


def apply_unit(settings: Settings, target: AwsTarget, reporter: Reporter, *,
               shas: Mapping[str, str], full: bool = False,
               before_terraform: Callable[[], None] | None = None) -> dict[str, Published]:
    """Publish every function's artifact (``shas``: CodeSha256 by key) with one apply.

    Gives each function's :class:`Published` version by key; its ``applied`` says
    whether this apply published that function anew (its version differs from the last
    apply's). ``before_terraform`` runs just before terraform does, as in
    :func:`.apply.apply_step`.
    """
    keys = [fn.key for fn in settings.functions]
    previous = last_versions(settings)
    with reporter.step("apply"):
        check_configuration(settings, reporter, check=unit_preflight.check)
        tf = unit_terraform(settings, target, reporter)
        fingerprint = inputs_fingerprint(settings, json.dumps(dict(shas), sort_keys=True),
                                         tf.input_variables())
        outputs = None if full else _unchanged(settings, target, fingerprint, shas)
        if outputs is not None:
            reporter.detail("no change since the last apply: skipped terraform; --full "
                            "forces it")
        else:
            run_apply(tf, target, reporter, settings=settings, before=before_terraform)
            outputs = unit_outputs(tf.raw_outputs(), keys,
                                   source=str(tf.state_path or "terraform output"))
            client = target.client("lambda")
            last = settings.last_apply_path
            last.parent.mkdir(parents=True, exist_ok=True)
            last.write_text(json.dumps({"fingerprint": fingerprint, "outputs": {
                unit_preflight.FUNCTIONS: {key: {
                    "function_name": out.function_name, "version": out.version,
                    "qualified_arn": out.qualified_arn} for key, out in outputs.items()}},
                "latest_modified": {key: _latest_modified(client, out.function_name)
                                    for key, out in outputs.items()}}))
        client = target.client("lambda")
        published = {}
        for key, out in outputs.items():
            new = (previous.get(key) or {}).get("version") != out.version
            published[key] = published_version(client, out, new)
            reporter.detail(f"[{key}] version {out.version} of {out.function_name}"
                            f"{' (new)' if new else ' (unchanged)'}: "
                            f"{published[key].qualified_arn}")
    return published
