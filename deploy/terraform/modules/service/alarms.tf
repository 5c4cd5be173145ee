# The guide's key metrics as alarms: error rate (the app's and the load balancer's own),
# unhealthy targets, no healthy target at all, response time, CPU and memory of the tasks,
# the database's CPU, connections and free storage, and a deployment the circuit breaker
# rolled back. They notify an SNS topic, which always has a subscriber: var.alarm_email is
# required (the pipelines pass the environment's ALARM_EMAIL).

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:EventBridge cannot publish to a topic encrypted with the AWS-managed SNS key, and alarms carry no secrets
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "email" {
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# EventBridge may publish the deployment events to the topic.
resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.deployment_failed.arn } }
    }]
  })
}

# A deployment the circuit breaker stopped (and rolled back) is news even when the old
# tasks keep serving.
resource "aws_cloudwatch_event_rule" "deployment_failed" {
  name        = "${var.name}-deployment-failed"
  description = "An ECS deployment of ${var.name} failed."
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Deployment State Change"]
    resources     = [aws_ecs_service.app.id]
    detail        = { eventName = ["SERVICE_DEPLOYMENT_FAILED"] }
  })
}

resource "aws_cloudwatch_event_target" "deployment_failed" {
  rule = aws_cloudwatch_event_rule.deployment_failed.name
  arn  = aws_sns_topic.alarms.arn
}

# Every task out of the load balancer: the site is down, whatever the error counts say.
resource "aws_cloudwatch_metric_alarm" "no_healthy_targets" {
  alarm_name          = "${var.name}-no-healthy-targets"
  alarm_description   = "No task is healthy behind the load balancer: the site is down."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  statistic           = "Minimum"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  period              = 60
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

locals {
  alarms = {
    "5xx" = {
      namespace   = "AWS/ApplicationELB", metric = "HTTPCode_Target_5XX_Count", stat = "Sum",
      threshold   = 10, dimensions = { LoadBalancer = var.alb_arn_suffix },
      description = "The app answered more than 10 requests with 5xx in a minute."
    }
    "load-balancer-5xx" = {
      namespace   = "AWS/ApplicationELB", metric = "HTTPCode_ELB_5XX_Count", stat = "Sum",
      threshold   = 10, dimensions = { LoadBalancer = var.alb_arn_suffix },
      description = "The load balancer itself answered more than 10 requests with 5xx in a minute (no target, or a target that failed to answer)."
    }
    "unhealthy-targets" = {
      namespace   = "AWS/ApplicationELB", metric = "UnHealthyHostCount", stat = "Maximum",
      threshold   = 0, dimensions = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix },
      description = "A task fails /api/v1/health/live: it does not answer, or it read a schema it cannot serve."
    }
    "response-time" = {
      namespace   = "AWS/ApplicationELB", metric = "TargetResponseTime", stat = "p99",
      threshold   = 1, dimensions = { LoadBalancer = var.alb_arn_suffix },
      description = "p99 response time above 1 s (live streams are not counted: they never end)."
    }
    "cpu" = {
      namespace   = "AWS/ECS", metric = "CPUUtilization", stat = "Average",
      threshold   = 85, dimensions = { ClusterName = aws_ecs_cluster.this.name, ServiceName = aws_ecs_service.app.name },
      description = "The tasks' CPU above 85 %."
    }
    "memory" = {
      namespace   = "AWS/ECS", metric = "MemoryUtilization", stat = "Average",
      threshold   = 85, dimensions = { ClusterName = aws_ecs_cluster.this.name, ServiceName = aws_ecs_service.app.name },
      description = "The tasks' memory above 85 %."
    }
    "database-cpu" = {
      namespace   = "AWS/RDS", metric = "CPUUtilization", stat = "Average",
      threshold   = 80, dimensions = { DBInstanceIdentifier = var.database_identifier },
      description = "PostgreSQL's CPU above 80 %."
    }
    "database-connections" = {
      namespace   = "AWS/RDS", metric = "DatabaseConnections", stat = "Maximum",
      threshold   = var.max_tasks * var.database_max_connections, dimensions = { DBInstanceIdentifier = var.database_identifier },
      description = "More database connections than all tasks' pools together may open."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = contains(["Sum", "Average", "Maximum", "Minimum", "SampleCount"], each.value.stat) ? each.value.stat : null
  extended_statistic  = contains(["Sum", "Average", "Maximum", "Minimum", "SampleCount"], each.value.stat) ? null : each.value.stat
  dimensions          = each.value.dimensions
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "database_storage" {
  alarm_name          = "${var.name}-database-free-storage"
  alarm_description   = "Less than 2 GiB of free database storage."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  statistic           = "Minimum"
  dimensions          = { DBInstanceIdentifier = var.database_identifier }
  period              = 300
  evaluation_periods  = 1
  threshold           = 2 * 1024 * 1024 * 1024
  comparison_operator = "LessThanThreshold"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
