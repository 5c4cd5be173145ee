variable "region" {
  description = "AWS region of the state bucket (and of the environments)."
  type        = string
  default     = "us-east-1"
}

variable "github_repository" {
  description = "OWNER/NAME of the GitHub repository whose workflows may deploy."
  type        = string
}
