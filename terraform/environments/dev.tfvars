# Settings of the `dev` environment, passed with -var-file. Point an environment at it:
#
#   lambda_gate:
#     environments:
#       dev:
#         region: eu-west-1
#         profile: dev                  # or role_arn: arn:aws:iam::111111111111:role/deploy
#         var_files: terraform/environments/dev.tfvars
#         state: .lambda-gate/env/dev/terraform.tfstate   # or backend_config: ...
#
# A value here beats lambda_gate.terraform.vars (TF_VAR_...), as -var-file always does.

memory_size = 256
timeout     = 10

environment_variables = {
  LOG_LEVEL = "debug"
}
