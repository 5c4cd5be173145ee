output "state_bucket" {
  description = "TF_STATE_BUCKET: terraform init -backend-config=bucket=<this>."
  value       = aws_s3_bucket.state.bucket
}

output "deploy_role_arns" {
  description = "AWS_DEPLOY_ROLE_ARN of each GitHub environment."
  value       = { for env, role in aws_iam_role.deploy : env => role.arn }
}
