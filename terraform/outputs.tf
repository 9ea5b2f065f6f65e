# lambda-gate reads these three after each apply.

output "function_name" {
  value = aws_lambda_function.this.function_name
}

output "version" {
  description = "The version this apply published (or the latest one, when nothing changed)."
  value       = aws_lambda_function.this.version
}

output "qualified_arn" {
  value = aws_lambda_function.this.qualified_arn
}
