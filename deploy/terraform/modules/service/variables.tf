variable "name" {
  description = "Prefix of every resource name, e.g. conflicto-dev."
  type        = string
}

variable "environment" {
  description = "The app's ENVIRONMENT: dev or prod. Also names the log group."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "AWS region, for the log driver."
  type        = string
}

variable "image_repository" {
  description = "The image without its tag, e.g. ghcr.io/OWNER/conflicto."
  type        = string
}

variable "image_tag" {
  description = "The image tag to run: the commit SHA the pipeline built. Also APP_VERSION."
  type        = string
}

variable "registry_credentials_secret_arn" {
  description = "Secrets Manager secret with {\"username\",\"password\"} for a private registry; null for a public image. Its name must start with conflicto-<env>/: the task roles' permissions boundary lets them read no other secret."
  type        = string
  default     = null
}

variable "cpu" {
  description = "Task CPU units: 256 for dev, 1024 for prod."
  type        = number
}

variable "memory" {
  description = "Task memory in MiB: 512 for dev, 2048 for prod."
  type        = number
}

variable "min_tasks" {
  description = "Tasks at least (and at the first deploy)."
  type        = number
}

variable "max_tasks" {
  description = "Tasks at most; above min_tasks turns autoscaling on."
  type        = number
}

variable "cpu_target_percent" {
  description = "Average CPU autoscaling keeps the tasks at."
  type        = number
  default     = 60
}

variable "app_port" {
  description = "The port the server listens on (LISTEN_ADDR)."
  type        = number
  default     = 8080
}

variable "public_base_url" {
  description = "PUBLIC_BASE_URL and ALLOWED_ORIGINS, e.g. https://dev.conflicto.app."
  type        = string
}

variable "log_level" {
  description = "LOG_LEVEL of the app."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the app's and the migrations' logs."
  type        = number
  default     = 30
}

variable "database_url_secret_arn" {
  description = "Secret with DATABASE_URL (database module)."
  type        = string
}

variable "database_identifier" {
  description = "The RDS instance, for alarms (database module)."
  type        = string
}

variable "database_max_connections" {
  description = "DATABASE_MAX_CONNECTIONS per task; all tasks together must stay below the instance's max_connections."
  type        = number
  default     = 10
}

variable "retention_days" {
  description = "RETENTION_DAYS: days after a session ends before nicknames and typed texts are removed (counts stay); 0 keeps them."
  type        = number
  default     = 0
}

variable "shutdown_drain_seconds" {
  description = "SHUTDOWN_DRAIN_SECONDS: how long a stopping task keeps serving, not ready, after SIGTERM (on ECS the ALB has already deregistered it)."
  type        = number
  default     = 10
}

variable "stop_timeout_seconds" {
  description = "ECS stopTimeout: SIGTERM to SIGKILL (at most 120 on Fargate)."
  type        = number
  default     = 30
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks (network module)."
  type        = list(string)
}

variable "security_group_id" {
  description = "The app's security group (network module)."
  type        = string
}

variable "target_group_arn" {
  description = "The ALB target group (alb module)."
  type        = string
}

variable "alb_arn_suffix" {
  description = "For the load balancer's alarms (alb module)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "For the target group's alarms (alb module)."
  type        = string
}

variable "alarm_email" {
  description = "Where alarms are mailed. Required: an alarm nobody receives is no alarm."
  type        = string
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "Give the address the alarms are mailed to."
  }
}
