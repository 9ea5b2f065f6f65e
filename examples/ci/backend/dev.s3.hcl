# terraform's S3 backend for the dev environment (copy to terraform/backend/dev.s3.hcl).
# lambda-gate runs `terraform init -backend-config=terraform/backend/dev.s3.hcl` in the
# environment's own data directory; see terraform/backend/s3.hcl.example for each line.
bucket       = "my-company-terraform-state-111111111111"
key          = "lambda/api-backend/dev.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
