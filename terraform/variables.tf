variable "artifact_path" {
  description = "Path of the built function package. lambda-gate sets it (TF_VAR_artifact_path) to the artifact it just built."
  type        = string
}

variable "function_name" {
  description = "Name of the Lambda function."
  type        = string
  default     = "api-backend"
}

variable "runtime" {
  description = "Lambda runtime; lambda-gate passes lambda_gate.function.runtime."
  type        = string
  default     = "python3.11"
}

variable "handler" {
  description = "Handler, module.function; lambda-gate passes lambda_gate.function.handler."
  type        = string
  default     = "app.handler"
}

variable "architecture" {
  description = "x86_64 or arm64; lambda-gate passes lambda_gate.function.architecture."
  type        = string
  default     = "x86_64"
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 128
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 10
}

variable "environment_variables" {
  description = "Environment variables of the function. Frozen into each published version."
  type        = map(string)
  default     = {}
  sensitive   = true
}
