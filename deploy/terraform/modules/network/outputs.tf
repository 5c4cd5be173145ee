output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "The VPC's address range."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Subnets of the load balancer."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Subnets of the tasks and the database."
  value       = aws_subnet.private[*].id
}

output "alb_security_group_id" {
  description = "The load balancer's security group."
  value       = aws_security_group.alb.id
}

output "app_security_group_id" {
  description = "The app's tasks' security group (also the migration task's)."
  value       = aws_security_group.app.id
}

output "database_security_group_id" {
  description = "The database's security group."
  value       = aws_security_group.database.id
}
