terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

# A plain provider: the environment picks the target account and endpoint
# (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL for the embedded local AWS).
provider "aws" {}
