# Settings of the `prod` environment, passed with -var-file (see dev.tfvars for how an
# environment names its tfvars). Secrets do not belong here: read them at run time from
# SSM Parameter Store or Secrets Manager, because every value below is frozen into each
# published version and stored in the state.

memory_size = 512
timeout     = 10

environment_variables = {
  LOG_LEVEL = "info"
}
