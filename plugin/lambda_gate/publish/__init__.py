"""The apply stage: a built artifact in, a published, numbered version out.

Takes the settings, where to deploy (:class:`~lambda_gate.aws.AwsTarget`) and the
artifact's CodeSha256; gives :class:`Published` (function name, version, qualified ARN,
CodeSha256). :mod:`.preflight` checks the configuration before anything runs,
:mod:`.terraform` is the one wrapper of the terraform CLI, :mod:`.plan_guard` reads the
saved plan before it is applied, :mod:`.apply` runs the step and recognises an apply
with nothing to do.
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
from .outputs import OutputNames
from .plan_guard import ReplacementRefused
from .state_origin import check_state_origin
from .terraform import Terraform, TerraformOutputs

__all__ = [
    "OutputNames", "Published", "ReplacementRefused", "Terraform", "TerraformOutputs",
    "apply_step", "check_configuration", "check_state_origin", "inputs_fingerprint",
    "live_code_sha256", "terraform_for", "unchanged_outputs",
]
