"""The apply stage: a built artifact in, a published, numbered version out.

Takes the settings, where to deploy (:class:`~lambda_gate.aws.AwsTarget`) and the
artifact's CodeSha256; gives :class:`Published` (function name, version, qualified ARN,
CodeSha256). :mod:`.preflight` checks the configuration before terraform runs,
:mod:`.terraform` is the one wrapper of the terraform CLI, :mod:`.apply` runs the step
and recognises an apply with nothing to do.
"""

from .apply import (
    Published,
    apply_step,
    check_configuration,
    inputs_fingerprint,
    live_code_sha256,
    terraform_for,
    unchanged_outputs,
)
from .terraform import Terraform, TerraformOutputs

__all__ = [
    "Published", "Terraform", "TerraformOutputs", "apply_step", "check_configuration",
    "inputs_fingerprint", "live_code_sha256", "terraform_for", "unchanged_outputs",
]
