# RDS PostgreSQL in the private subnets, reachable only from the app's security group.
# The app's DATABASE_URL (with a generated password) is a Secrets Manager secret that the
# task definition injects; it never appears in a plain variable or in the task's environment
# listing. The password is in the Terraform state too, which is why the state bucket is
# encrypted and private (bootstrap/).

resource "random_password" "app" {
  length  = 40
  special = false
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.private_subnet_ids
}

resource "aws_db_parameter_group" "this" {
  name   = var.name
  family = "postgres${split(".", var.engine_version)[0]}"
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }
  parameter {
    name  = "log_lock_waits"
    value = "1"
  }
}

# RDS would create this log group itself on the first export, with no expiry; made here
# first, it keeps the PostgreSQL log as long as the app's logs.
resource "aws_cloudwatch_log_group" "postgresql" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with AWS-owned keys; a CMK adds a key policy for logs that hold no secrets
  #checkov:skip=CKV_AWS_338:kept as long as the app's logs (30 days): they hold statements and addresses, kept no longer than needed
  name              = "/aws/rds/instance/${var.name}/postgresql"
  retention_in_days = var.log_retention_days
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_293:deletion_protection = var.deletion_protection: true in prod, false in dev so it can be torn down
  #checkov:skip=CKV_AWS_157:multi_az = var.multi_az: true in prod, single zone in dev to save cost
  #checkov:skip=CKV_AWS_353:performance_insights_enabled = var.performance_insights: on in prod
  #checkov:skip=CKV_AWS_354:Performance Insights uses the AWS-managed key; a CMK adds a key policy for no data the app does not already hold
  #checkov:skip=CKV_AWS_118:enhanced monitoring would need another IAM role; CloudWatch metrics, the alarms and Performance Insights cover the database
  #checkov:skip=CKV_AWS_161:the app signs in with a generated password from Secrets Manager over forced TLS; IAM tokens would expire under long-lived pools
  depends_on = [aws_cloudwatch_log_group.postgresql]

  identifier                      = var.name
  engine                          = "postgres"
  engine_version                  = var.engine_version
  instance_class                  = var.instance_class
  allocated_storage               = var.allocated_storage_gb
  max_allocated_storage           = var.allocated_storage_gb * 4
  storage_type                    = "gp3"
  storage_encrypted               = true
  db_name                         = var.database_name
  username                        = var.username
  password                        = random_password.app.result
  db_subnet_group_name            = aws_db_subnet_group.this.name
  parameter_group_name            = aws_db_parameter_group.this.name
  vpc_security_group_ids          = [var.security_group_id]
  publicly_accessible             = false
  multi_az                        = var.multi_az
  backup_retention_period         = var.backup_retention_days
  backup_window                   = "03:00-04:00"
  maintenance_window              = "sun:04:30-sun:05:30"
  deletion_protection             = var.deletion_protection
  skip_final_snapshot             = !var.deletion_protection
  final_snapshot_identifier       = var.deletion_protection ? "${var.name}-final" : null
  copy_tags_to_snapshot           = true
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = var.performance_insights
  enabled_cloudwatch_logs_exports = ["postgresql"]
  apply_immediately               = !var.deletion_protection
}

resource "aws_secretsmanager_secret" "database_url" {
  #checkov:skip=CKV_AWS_149:encrypted with the AWS-managed key aws/secretsmanager; a CMK would need a key policy for the execution role too
  #checkov:skip=CKV2_AWS_57:no rotation Lambda: to change the password, replace random_password.app (terraform apply -replace) and deploy
  name                    = "${var.name}/database-url"
  description             = "DATABASE_URL of the Conflicto app in ${var.name}"
  recovery_window_in_days = var.deletion_protection ? 30 : 0
}

resource "aws_secretsmanager_secret_version" "database_url" {
  secret_id     = aws_secretsmanager_secret.database_url.id
  secret_string = "postgres://${var.username}:${random_password.app.result}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/${var.database_name}?sslmode=require"
}
