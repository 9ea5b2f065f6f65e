# terraform's S3 backend for the prod environment (copy to terraform/backend/prod.s3.hcl).
# lambda-gate runs `terraform init -backend-config=terraform/backend/prod.s3.hcl` in the
# environment's own data directory; see terraform/backend/s3.hcl.example for each line.
bucket       = "my-company-terraform-state-222222222222"
key          = "lambda/api-backend/prod.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
