output "target_group_arn" {
  description = "The target group the service registers its tasks in."
  value       = aws_lb_target_group.app.arn
}

output "arn_suffix" {
  description = "For CloudWatch metrics of the load balancer."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "For CloudWatch metrics of the target group."
  value       = aws_lb_target_group.app.arn_suffix
}

output "https_listener_arn" {
  description = "The HTTPS listener; the service depends on it."
  value       = aws_lb_listener.https.arn
}

output "url" {
  description = "The environment's public URL."
  value       = "https://${var.domain_name}"
}
