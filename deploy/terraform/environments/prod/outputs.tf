# The workflows read these with `terraform output -raw NAME`.

output "url" {
  description = "Public URL of the environment."
  value       = module.alb.url
}

output "cluster_name" {
  description = "ECS cluster."
  value       = module.service.cluster_name
}

output "service_name" {
  description = "ECS service."
  value       = module.service.service_name
}

output "app_task_definition_arn" {
  description = "App task definition of this image tag."
  value       = module.service.app_task_definition_arn
}

output "migrate_task_definition_arn" {
  description = "Migration task definition of this image tag."
  value       = module.service.migrate_task_definition_arn
}

output "private_subnet_ids" {
  description = "Subnets for the one-off migration task, comma-separated."
  value       = join(",", module.network.private_subnet_ids)
}

output "app_security_group_id" {
  description = "Security group for the one-off migration task."
  value       = module.network.app_security_group_id
}

output "db_instance_identifier" {
  description = "RDS instance, for the pre-migration snapshot."
  value       = module.database.instance_identifier
}

output "log_group_name" {
  description = "CloudWatch log group /ecs/conflicto-backend-<env>."
  value       = module.service.log_group_name
}
