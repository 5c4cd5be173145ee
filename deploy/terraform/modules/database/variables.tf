variable "name" {
  description = "Prefix of every resource name, e.g. conflicto-dev."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets in at least two zones (network module)."
  type        = list(string)
}

variable "security_group_id" {
  description = "The database's security group (network module)."
  type        = string
}

variable "instance_class" {
  description = "db.t4g.micro for dev, db.r6g.large for prod."
  type        = string
}

variable "engine_version" {
  description = "PostgreSQL major version; the test suite runs on 15. Only the major: RDS upgrades minor versions itself (auto_minor_version_upgrade), and a pinned minor would make every apply after such an upgrade fail as a downgrade."
  type        = string
  default     = "15"
  validation {
    condition     = can(regex("^[0-9]+$", var.engine_version))
    error_message = "Give the major version only, such as \"15\"."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the PostgreSQL log RDS exports."
  type        = number
  default     = 30
}

variable "allocated_storage_gb" {
  description = "Initial storage; autoscaling may grow it to four times this."
  type        = number
  default     = 20
}

variable "database_name" {
  description = "The database the app uses."
  type        = string
  default     = "conflicto"
}

variable "username" {
  description = "The app's database user (the instance's master user)."
  type        = string
  default     = "conflicto"
}

variable "multi_az" {
  description = "A standby in another zone (prod)."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Automated backups kept this many days (0 turns them off)."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse deletes, and take a final snapshot when destroyed (prod)."
  type        = bool
  default     = false
}

variable "performance_insights" {
  description = "Performance Insights (not available on every micro class)."
  type        = bool
  default     = false
}
