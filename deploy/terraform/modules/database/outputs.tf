output "instance_identifier" {
  description = "For snapshots before migrations (deploy-prod.yml) and CloudWatch metrics."
  value       = aws_db_instance.this.identifier
}

output "address" {
  description = "The database's private host name."
  value       = aws_db_instance.this.address
}

output "database_url_secret_arn" {
  description = "Secrets Manager secret with the app's DATABASE_URL."
  value       = aws_secretsmanager_secret.database_url.arn
}
