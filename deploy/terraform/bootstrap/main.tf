# Created once per AWS account, by an administrator, with local state:
#   terraform init && terraform apply -var github_repository=OWNER/conflicto
# It makes what the environments and the workflows assume exists:
#   - the S3 bucket holding every environment's state (versioned, encrypted, private);
#   - GitHub's OIDC identity provider, so workflows get short-lived AWS credentials and no
#     AWS key is ever stored in GitHub;
#   - one deploy role per GitHub environment (dev, production), assumable only by this
#     repository's workflows running in that environment.
# Its outputs are the values of the AWS_DEPLOY_ROLE_ARN and TF_STATE_BUCKET settings in
# docs/deployment.md.

terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "conflicto", ManagedBy = "terraform" }
  }
}

data "aws_caller_identity" "current" {}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:the Terraform state's reads and writes are recorded by CloudTrail; server access logs would add a bucket to watch
  #checkov:skip=CKV2_AWS_62:nothing consumes events of the state bucket
  #checkov:skip=CKV_AWS_144:versioning keeps every state; a second region is not needed to recover the infrastructure's state
  bucket = "conflicto-terraform-state-${data.aws_caller_identity.current.account_id}"
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

# Old state versions go after 90 days; the current one stays.
resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    id     = "old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

# GitHub environment name => AWS environment it deploys.
locals {
  environments = {
    dev        = "dev"
    production = "prod"
  }
}

data "aws_iam_policy_document" "trust" {
  for_each = local.environments
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    # Only a job of this environment, on main. The repository's subject template must
    # include the ref (docs/deployment.md, one-time setup), so AWS itself refuses a token
    # from another branch even where the GitHub environment's branch rule is missing.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${each.key}:ref:refs/heads/main"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  for_each             = local.environments
  name                 = "conflicto-deploy-${each.value}"
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 3600
}

# Terraform manages VPCs, load balancers, RDS, ECS, IAM roles of the tasks, secrets and
# alarms: the deploy role needs broad rights on those services, hence PowerUserAccess (every
# service but IAM and Organizations). What keeps it from being an admin, and one
# environment from the other:
# - IAM only on its own environment's task roles (role/conflicto-<env>-*), never on the
#   deploy roles or the boundary, and every role it creates or changes must carry the
#   permissions boundary below, so a task role can never hold more than the boundary;
# - the only managed policy it may attach is the ECS task execution policy, and it may pass
#   its roles only to ECS tasks;
# - an explicit deny on the other environment: its tagged resources (Environment), its
#   secrets, its Terraform state and its task roles.
# deploy/scripts/check-iam-policies.py checks these rules in CI.
resource "aws_iam_role_policy_attachment" "power_user" {
  for_each   = local.environments
  role       = aws_iam_role.deploy[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}

locals {
  account_id       = data.aws_caller_identity.current.account_id
  execution_policy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
  other_environment = {
    dev  = "prod"
    prod = "dev"
  }
}

# The most any task role of an environment may do: write that environment's logs, read its
# secrets, and open ECS Exec's channels. Images come from ghcr.io, so no ECR access. Roles the environment's deploy
# role creates or changes must carry it, so even a role policy it writes cannot reach the
# other environment.
data "aws_iam_policy_document" "task_boundary" {
  for_each = local.environments
  statement {
    sid       = "WriteTheEcsLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:aws:logs:*:${local.account_id}:log-group:/ecs/conflicto-backend-${each.value}:*"]
  }
  statement {
    sid = "EcsExecChannels"
    actions = [
      "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "ReadTheEnvironmentsSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:*:${local.account_id}:secret:conflicto-${each.value}/*"]
  }
}

resource "aws_iam_policy" "task_boundary" {
  for_each    = local.environments
  name        = "conflicto-${each.value}-task-boundary"
  description = "Permissions boundary of every Conflicto task role in ${each.value}"
  policy      = data.aws_iam_policy_document.task_boundary[each.key].json
}

data "aws_iam_policy_document" "iam_for_tasks" {
  for_each = local.environments
  statement {
    sid = "CreateAndChangeTaskRolesWithinTheBoundary"
    actions = [
      "iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary",
    ]
    resources = ["arn:aws:iam::${local.account_id}:role/conflicto-${each.value}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [aws_iam_policy.task_boundary[each.key].arn]
    }
  }
  statement {
    sid       = "AttachOnlyTheTaskExecutionPolicy"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = ["arn:aws:iam::${local.account_id}:role/conflicto-${each.value}-*"]
    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = [local.execution_policy]
    }
  }
  statement {
    sid       = "PassTaskRolesToEcsOnly"
    actions   = ["iam:PassRole"]
    resources = ["arn:aws:iam::${local.account_id}:role/conflicto-${each.value}-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid = "ReadAndRemoveTaskRoles"
    actions = [
      "iam:DeleteRole", "iam:GetRole", "iam:TagRole", "iam:UntagRole", "iam:DeleteRolePolicy",
      "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole", "iam:ListRoleTags",
    ]
    resources = ["arn:aws:iam::${local.account_id}:role/conflicto-${each.value}-*"]
  }
  statement {
    sid       = "ReadTheBoundary"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = [aws_iam_policy.task_boundary[each.key].arn, local.execution_policy]
  }
  statement {
    sid    = "KeepTheBoundary"
    effect = "Deny"
    actions = [
      "iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:DeletePolicy",
      "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "NotTheOtherEnvironmentsResources"
    effect    = "Deny"
    actions   = ["*"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [local.other_environment[each.value]]
    }
  }
  statement {
    sid     = "NotTheOtherEnvironmentsSecretsStateOrRoles"
    effect  = "Deny"
    actions = ["*"]
    resources = [
      "arn:aws:secretsmanager:*:${local.account_id}:secret:conflicto-${local.other_environment[each.value]}/*",
      "${aws_s3_bucket.state.arn}/conflicto/${local.other_environment[each.value]}/*",
      "arn:aws:iam::${local.account_id}:role/conflicto-${local.other_environment[each.value]}-*",
    ]
  }
}

resource "aws_iam_role_policy" "iam_for_tasks" {
  for_each = local.environments
  name     = "manage-conflicto-task-roles"
  role     = aws_iam_role.deploy[each.key].id
  policy   = data.aws_iam_policy_document.iam_for_tasks[each.key].json
}
