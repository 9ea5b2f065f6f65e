#!/usr/bin/env bash
# The plain deploy script lambda-gate is measured against, as teams write it:
# zip the source, apply terraform, read its outputs, move the alias with the AWS CLI.
#
# Run it in a directory holding src/ (the function's code) and terraform/ (lambda-gate's
# reference configuration, which publishes a version on every apply):
#
#     FUNCTION_NAME=api-backend ALIAS=main bash deploy.sh
#
# AWS_ENDPOINT_URL, credentials and TF_CLI_CONFIG_FILE come from the environment.
set -euo pipefail

: "${FUNCTION_NAME:?set FUNCTION_NAME}"
ALIAS="${ALIAS:-main}"
ARTIFACT="$PWD/lambda.zip"

(cd src && zip -r -q "$ARTIFACT" .)

cd terraform
terraform init -input=false -no-color
terraform apply -auto-approve -input=false -no-color \
  -var "artifact_path=$ARTIFACT" -var "function_name=$FUNCTION_NAME"
terraform output -json > output.json
VERSION=$(jq -r .version.value output.json)

aws lambda update-alias --function-name "$FUNCTION_NAME" --name "$ALIAS" \
    --function-version "$VERSION" ||
  aws lambda create-alias --function-name "$FUNCTION_NAME" --name "$ALIAS" \
    --function-version "$VERSION"
