# The app on ECS Fargate: a cluster, the app's task definition and service behind the load
# balancer, a one-off migration task definition on the same image, logs in CloudWatch under
# /ecs/conflicto-backend-<env>, autoscaling, and alarms.
#
# The service ignores later changes of its task definition: deploys are done by the
# pipelines, which run the migration task first and only then point the service at the new
# app task definition (`aws ecs update-service`), as docs/deployment.md describes.

locals {
  image     = "${var.image_repository}:${var.image_tag}"
  log_group = "/ecs/conflicto-backend-${var.environment}"
  environment = [
    { name = "ENVIRONMENT", value = var.environment },
    { name = "APP_VERSION", value = var.image_tag },
    { name = "LISTEN_ADDR", value = "0.0.0.0:${var.app_port}" },
    { name = "PUBLIC_BASE_URL", value = var.public_base_url },
    { name = "ALLOWED_ORIGINS", value = var.public_base_url },
    { name = "LOG_FORMAT", value = "json" },
    { name = "LOG_LEVEL", value = var.log_level },
    { name = "DATABASE_MAX_CONNECTIONS", value = tostring(var.database_max_connections) },
    { name = "RETENTION_DAYS", value = tostring(var.retention_days) },
    # Behind the ALB the client's address is the last hop of X-Forwarded-For.
    { name = "TRUST_FORWARDED_FOR", value = "true" },
    # ECS deregisters a task and waits the deregistration delay before SIGTERM; the drain
    # then finishes the writes in flight...
    { name = "SHUTDOWN_DRAIN_SECONDS", value = tostring(var.shutdown_drain_seconds) },
    # ...and the process exits before ECS's stopTimeout sends SIGKILL.
    { name = "SHUTDOWN_TIMEOUT_SECONDS", value = tostring(var.stop_timeout_seconds - 5) },
  ]
  secrets = [
    { name = "DATABASE_URL", valueFrom = var.database_url_secret_arn },
    { name = "METRICS_TOKEN", valueFrom = aws_secretsmanager_secret.metrics_token.arn },
  ]
  repository_credentials = var.registry_credentials_secret_arn == null ? null : {
    credentialsParameter = var.registry_credentials_secret_arn
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "app" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with AWS-owned keys; the request log holds no bodies or secrets
  #checkov:skip=CKV_AWS_338:the guide's 30 days: the logs hold client addresses, kept no longer than needed
  name              = local.log_group
  retention_in_days = var.log_retention_days
}

# --- Secrets the app reads ------------------------------------------------------------------

resource "random_password" "metrics_token" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "metrics_token" {
  #checkov:skip=CKV_AWS_149:encrypted with the AWS-managed key aws/secretsmanager; a CMK would need a key policy for the execution role too
  #checkov:skip=CKV2_AWS_57:no rotation Lambda: to change the token, replace random_password.metrics_token (terraform apply -replace) and deploy
  name                    = "${var.name}/metrics-token"
  description             = "Bearer token for GET /metrics of ${var.name}"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "metrics_token" {
  secret_id     = aws_secretsmanager_secret.metrics_token.id
  secret_string = random_password.metrics_token.result
}

# --- Roles ----------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_caller_identity" "current" {}

# Every task role carries the boundary bootstrap/ made: the deploy roles may only create and
# change roles that do, so no role they make can hold more than it allows.
locals {
  task_boundary_arn = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:policy/${var.name}-task-boundary"
}

# ECS itself: pull the image, read the task's secrets, write its logs.
resource "aws_iam_role" "execution" {
  name                 = "${var.name}-execution"
  assume_role_policy   = data.aws_iam_policy_document.assume_ecs_tasks.json
  permissions_boundary = local.task_boundary_arn
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "read_secrets" {
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = compact([
      var.database_url_secret_arn,
      aws_secretsmanager_secret.metrics_token.arn,
      var.registry_credentials_secret_arn,
    ])
  }
}

resource "aws_iam_role_policy" "read_secrets" {
  name   = "read-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.read_secrets.json
}

# The app's own role: the app calls no AWS API. Its one permission is the channel ECS Exec
# opens, the operators' way into a running task (docs/runbooks/database.md).
resource "aws_iam_role" "task" {
  name                 = "${var.name}-task"
  assume_role_policy   = data.aws_iam_policy_document.assume_ecs_tasks.json
  permissions_boundary = local.task_boundary_arn
}

data "aws_iam_policy_document" "exec" {
  statement {
    actions = [
      "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "exec" {
  name   = "ecs-exec"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.exec.json
}

# --- Task definitions -----------------------------------------------------------------------

# Both task definitions run the same image with the same settings, secrets and log group;
# only the command, the size and the log stream prefix differ.
locals {
  container = {
    image                  = local.image
    essential              = true
    repositoryCredentials  = local.repository_credentials
    environment            = local.environment
    secrets                = local.secrets
    readonlyRootFilesystem = true
    user                   = "10001:10001"
  }
  logs = {
    for prefix in ["app", "migrate"] : prefix => {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app.name
        awslogs-region        = var.region
        awslogs-stream-prefix = prefix
      }
    }
  }
}

# Old revisions stay registered (skip_destroy): the circuit breaker returns to the previous
# one, and rollback.yml points the service at an earlier one without Terraform.
resource "aws_ecs_task_definition" "app" {
  family                   = "${var.name}-app"
  skip_destroy             = true
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  container_definitions = jsonencode([merge(local.container, {
    name             = "app"
    command          = ["serve"]
    portMappings     = [{ containerPort = var.app_port, protocol = "tcp" }]
    stopTimeout      = var.stop_timeout_seconds
    ulimits          = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]
    logConfiguration = local.logs["app"]
    healthCheck = {
      command     = ["CMD", "conflicto", "health-check", "--url", "http://127.0.0.1:${var.app_port}/api/v1/health/live", "--timeout-seconds", "4"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 20
    }
  })])
}

# Run once per deploy, before the service moves: `conflicto migrate up`. The pre-migration
# backup is the RDS snapshot the pipeline takes (deploy-prod.yml), hence --skip-backup here.
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${var.name}-migrate"
  skip_destroy             = true
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }
  container_definitions = jsonencode([merge(local.container, {
    name             = "migrate"
    command          = ["migrate", "up", "--skip-backup"]
    logConfiguration = local.logs["migrate"]
  })])
}

# --- The service ----------------------------------------------------------------------------

resource "aws_ecs_service" "app" {
  name                               = "${var.name}-app"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.app.arn
  desired_count                      = var.min_tasks
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  health_check_grace_period_seconds  = 30
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  enable_execute_command             = true
  propagate_tags                     = "SERVICE"

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [var.security_group_id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "app"
    container_port   = var.app_port
  }

  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }
}

# --- Autoscaling (prod: min_tasks < max_tasks) ------------------------------------------------

resource "aws_appautoscaling_target" "app" {
  count              = var.max_tasks > var.min_tasks ? 1 : 0
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_tasks
  max_capacity       = var.max_tasks
}

resource "aws_appautoscaling_policy" "cpu" {
  count              = length(aws_appautoscaling_target.app)
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app[0].service_namespace
  resource_id        = aws_appautoscaling_target.app[0].resource_id
  scalable_dimension = aws_appautoscaling_target.app[0].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = var.cpu_target_percent
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
    # Scale out fast when an event starts; scale in slowly, since a removed task drops
    # its live streams (they reconnect to the others).
    scale_out_cooldown = 60
    scale_in_cooldown  = 600
  }
}

resource "aws_appautoscaling_policy" "memory" {
  count              = length(aws_appautoscaling_target.app)
  name               = "${var.name}-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app[0].service_namespace
  resource_id        = aws_appautoscaling_target.app[0].resource_id
  scalable_dimension = aws_appautoscaling_target.app[0].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = 70
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
    scale_out_cooldown = 60
    scale_in_cooldown  = 600
  }
}
