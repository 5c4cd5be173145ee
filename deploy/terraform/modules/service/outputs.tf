output "cluster_name" {
  description = "The ECS cluster (ECS_CLUSTER in the workflows)."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "The ECS service (ECS_SERVICE in the workflows)."
  value       = aws_ecs_service.app.name
}

output "app_task_definition_arn" {
  description = "The app's task definition for this image tag; the pipeline points the service at it."
  value       = aws_ecs_task_definition.app.arn
}

output "migrate_task_definition_arn" {
  description = "The one-off migration task for this image tag; the pipeline runs it before the service moves."
  value       = aws_ecs_task_definition.migrate.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the app and the migrations."
  value       = aws_cloudwatch_log_group.app.name
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = aws_sns_topic.alarms.arn
}
