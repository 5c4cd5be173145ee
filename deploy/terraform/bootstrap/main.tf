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
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${each.key}"]
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
# alarms: the deploy role needs broad rights on those services. PowerUserAccess plus the
# IAM actions for the task roles is the usual compromise; narrow it further per account.
resource "aws_iam_role_policy_attachment" "power_user" {
  for_each   = local.environments
  role       = aws_iam_role.deploy[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}

data "aws_iam_policy_document" "iam_for_tasks" {
  statement {
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:TagRole", "iam:UntagRole",
      "iam:PassRole", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy",
      "iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
    ]
    resources = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/conflicto-*"]
  }
}

resource "aws_iam_role_policy" "iam_for_tasks" {
  for_each = local.environments
  name     = "manage-conflicto-task-roles"
  role     = aws_iam_role.deploy[each.key].id
  policy   = data.aws_iam_policy_document.iam_for_tasks.json
}
