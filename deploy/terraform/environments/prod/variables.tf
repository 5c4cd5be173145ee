variable "region" {
  description = "AWS region."
  type        = string
}

variable "image_repository" {
  description = "The image without its tag, e.g. ghcr.io/OWNER/conflicto."
  type        = string
}

variable "image_tag" {
  description = "The image tag to deploy: the commit SHA. Set by the pipeline with -var."
  type        = string
}

variable "registry_credentials_secret_arn" {
  description = "Secret with registry credentials when the image is private; null when public."
  type        = string
  default     = null
}

variable "zone_name" {
  description = "Route 53 hosted zone."
  type        = string
}

variable "domain_name" {
  description = "The environment's host name."
  type        = string
}

variable "vpc_cidr_block" {
  description = "The VPC's address range."
  type        = string
}

variable "zone_count" {
  description = "Availability zones."
  type        = number
  default     = 2
}

variable "nat_per_zone" {
  description = "One NAT gateway per zone."
  type        = bool
}

variable "app_port" {
  description = "The server's port in the task."
  type        = number
  default     = 8080
}

variable "task_cpu" {
  description = "Fargate CPU units per task."
  type        = number
}

variable "task_memory" {
  description = "Fargate memory per task, MiB."
  type        = number
}

variable "min_tasks" {
  description = "Tasks at least."
  type        = number
}

variable "max_tasks" {
  description = "Tasks at most (autoscaling when above min_tasks)."
  type        = number
}

variable "database_max_connections" {
  description = "DATABASE_MAX_CONNECTIONS per task."
  type        = number
}

variable "retention_days" {
  description = "RETENTION_DAYS: days after a session ends before its nicknames and typed texts are removed; 0 keeps them."
  type        = number
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_allocated_storage_gb" {
  description = "RDS storage at creation, GiB."
  type        = number
}

variable "db_multi_az" {
  description = "RDS standby in another zone."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups."
  type        = number
}

variable "db_performance_insights" {
  description = "RDS Performance Insights."
  type        = bool
}

variable "protect" {
  description = "Deletion protection (database, load balancer) and a final snapshot."
  type        = bool
}

variable "alarm_email" {
  description = "Address the alarms go to. Required; the pipelines pass the environment's ALARM_EMAIL variable as TF_VAR_alarm_email."
  type        = string
}
