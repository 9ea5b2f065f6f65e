# A service of several functions: lambda-gate sets var.functions to each function's
# artifact and settings, keyed like lambda_gate.functions.

variable "functions" {
  description = "Each function's artifact_path, runtime, handler and architecture, by key."
  type = map(object({
    artifact_path = string
    runtime       = string
    handler       = string
    architecture  = string
  }))
}

variable "prefix" {
  description = "Function names are <prefix>-<key>."
  type        = string
  default     = "service"
}

resource "aws_iam_role" "lambda" {
  name_prefix = substr(var.prefix, 0, 32)
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Action    = "sts:AssumeRole"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_lambda_function" "fn" {
  for_each = var.functions

  function_name    = "${var.prefix}-${each.key}"
  role             = aws_iam_role.lambda.arn
  filename         = each.value.artifact_path
  source_code_hash = filebase64sha256(each.value.artifact_path)
  runtime          = each.value.runtime
  handler          = each.value.handler
  architectures    = [each.value.architecture]
  timeout          = 10
  publish          = true
}

# lambda-gate reads this after each apply: each key's name, version and qualified ARN.
output "functions" {
  value = {
    for key, fn in aws_lambda_function.fn : key => {
      function_name = fn.function_name
      version       = fn.version
      qualified_arn = fn.qualified_arn
    }
  }
}
