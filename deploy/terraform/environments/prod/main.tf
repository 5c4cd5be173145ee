# The prod environment: network, load balancer, database and service, wired together.
# Sizes and names are in terraform.tfvars; the image tag comes from the pipeline
# (-var image_tag=<commit SHA>). See docs/deployment.md.

terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
  # Remote state in the bucket bootstrap/ creates; S3-native locking (no DynamoDB table).
  backend "s3" {
    key          = "conflicto/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
    # bucket and region: terraform init -backend-config=bucket=... -backend-config=region=...
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project     = "conflicto"
      Environment = "prod"
      ManagedBy   = "terraform"
    }
  }
}

locals {
  name = "conflicto-prod"
}

module "network" {
  source       = "../../modules/network"
  name         = local.name
  cidr_block   = var.vpc_cidr_block
  zone_count   = var.zone_count
  nat_per_zone = var.nat_per_zone
  app_port     = var.app_port
}

module "alb" {
  source            = "../../modules/alb"
  name              = local.name
  vpc_id            = module.network.vpc_id
  public_subnet_ids = module.network.public_subnet_ids
  security_group_id = module.network.alb_security_group_id
  app_port          = var.app_port
  zone_name         = var.zone_name
  domain_name       = var.domain_name
  protect           = var.protect
}

module "database" {
  source                = "../../modules/database"
  name                  = local.name
  private_subnet_ids    = module.network.private_subnet_ids
  security_group_id     = module.network.database_security_group_id
  instance_class        = var.db_instance_class
  allocated_storage_gb  = var.db_allocated_storage_gb
  multi_az              = var.db_multi_az
  backup_retention_days = var.db_backup_retention_days
  deletion_protection   = var.protect
  performance_insights  = var.db_performance_insights
}

module "service" {
  source                          = "../../modules/service"
  name                            = local.name
  environment                     = "prod"
  region                          = var.region
  image_repository                = var.image_repository
  image_tag                       = var.image_tag
  registry_credentials_secret_arn = var.registry_credentials_secret_arn
  cpu                             = var.task_cpu
  memory                          = var.task_memory
  min_tasks                       = var.min_tasks
  max_tasks                       = var.max_tasks
  app_port                        = var.app_port
  public_base_url                 = module.alb.url
  database_url_secret_arn         = module.database.database_url_secret_arn
  database_identifier             = module.database.instance_identifier
  database_max_connections        = var.database_max_connections
  retention_days                  = var.retention_days
  private_subnet_ids              = module.network.private_subnet_ids
  security_group_id               = module.network.app_security_group_id
  target_group_arn                = module.alb.target_group_arn
  alb_arn_suffix                  = module.alb.arn_suffix
  target_group_arn_suffix         = module.alb.target_group_arn_suffix
  alarm_email                     = var.alarm_email

  depends_on = [module.alb]
}
