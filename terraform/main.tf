# One role per function name. Every published version of the function uses this same
# role, whichever branch published it: a permission change made for a branch reaches
# the version that production's alias points at. Keep branch experiments in a separate
# environment (account) or a separately named function.
resource "aws_iam_role" "lambda" {
  name_prefix = substr(var.function_name, 0, 32)

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Action    = "sts:AssumeRole"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_lambda_function" "this" {
  function_name = var.function_name
  role          = aws_iam_role.lambda.arn

  # Both follow the artifact lambda-gate built: a new hash publishes a new version,
  # an identical (reproducible) package publishes none.
  filename         = var.artifact_path
  source_code_hash = filebase64sha256(var.artifact_path)

  runtime       = var.runtime
  handler       = var.handler
  architectures = [var.architecture]
  memory_size   = var.memory_size
  timeout       = var.timeout

  # Publish a numbered, immutable version on every code or configuration change.
  publish = true

  # No block at all without variables: Lambda reports none, and an empty block would
  # make every plan see a change (and --full apply an update) when nothing changed.
  dynamic "environment" {
    for_each = nonsensitive(length(var.environment_variables)) > 0 ? [1] : []
    content {
      variables = var.environment_variables
    }
  }
}
