variable "name" {
  description = "Prefix of every resource name, e.g. conflicto-dev (at most 32 characters)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC (network module)."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets, one per zone (network module)."
  type        = list(string)
}

variable "security_group_id" {
  description = "The load balancer's security group (network module)."
  type        = string
}

variable "app_port" {
  description = "The port the server listens on in its task (LISTEN_ADDR)."
  type        = number
  default     = 8080
}

variable "zone_name" {
  description = "The Route 53 hosted zone, e.g. conflicto.app."
  type        = string
}

variable "domain_name" {
  description = "The environment's name in that zone, e.g. dev.conflicto.app."
  type        = string
}

variable "idle_timeout_seconds" {
  description = "Idle time before the ALB closes a connection; live streams send a keep-alive every 15 s. Below the server's 330 s for idle connections (src/http/server.rs), so the ALB closes first."
  type        = number
  default     = 300

  validation {
    condition     = var.idle_timeout_seconds < 330
    error_message = "The server closes connections idle for 330 s; the ALB must close them first."
  }
}

variable "deregistration_delay_seconds" {
  description = "How long a deregistered task keeps its open connections before ECS sends it SIGTERM."
  type        = number
  default     = 20
}

variable "access_log_days" {
  description = "Days the ALB access logs are kept."
  type        = number
  default     = 30
}

variable "protect" {
  description = "Deletion protection on the load balancer, and keep the access logs on destroy."
  type        = bool
  default     = false
}
