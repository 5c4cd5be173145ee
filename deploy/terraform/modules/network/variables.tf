variable "name" {
  description = "Prefix of every resource name, e.g. conflicto-dev."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's address range; subnets are /20s carved from it."
  type        = string
  default     = "10.40.0.0/16"
}

variable "zone_count" {
  description = "Availability zones to spread subnets over (RDS needs at least two)."
  type        = number
  default     = 2
  validation {
    condition     = var.zone_count >= 2 && var.zone_count <= 4
    error_message = "zone_count must be between 2 and 4."
  }
}

variable "nat_per_zone" {
  description = "One NAT gateway per zone (survives a zone outage) instead of one in all."
  type        = bool
  default     = false
}

variable "app_port" {
  description = "The port the server listens on in its task (LISTEN_ADDR)."
  type        = number
  default     = 8080
}
