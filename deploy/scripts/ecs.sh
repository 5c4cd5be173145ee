#!/usr/bin/env bash
# The AWS side of a deploy, shared by deploy-dev.yml, deploy-prod.yml and rollback.yml.
# Run from deploy/terraform/environments/<env> after `terraform apply`; it reads the
# outputs of that state.
#   ecs.sh snapshot TAG   # RDS snapshot before migrating (prod), waits until available;
#                         # deletes per-deploy snapshots older than 30 days beyond the newest 5
#   ecs.sh migrate        # the one-off migration task; fails unless it exits 0
#   ecs.sh roll           # point the service at the new app task definition, wait stable
#   ecs.sh url            # the environment's public URL
#   ecs.sh rollback ENV IMAGE:TAG  # without Terraform: the newest registered revision that
#                                  # runs IMAGE:TAG first says whether it can serve the
#                                  # schema (a one-off `migrate status`); then the service
#                                  # moves to it and waits until stable
set -euo pipefail

out() { terraform output -raw "$1"; }

# Points SERVICE of CLUSTER at DEFINITION, waits until the service is stable, and fails
# unless the stable deployment is that definition (the circuit breaker may have gone back).
move_service() {
  local cluster=$1 service=$2 definition=$3 running
  echo "service $service -> $definition"
  aws ecs update-service --cluster "$cluster" --service "$service" \
    --task-definition "$definition" >/dev/null
  # Rolling replacement: new tasks must start (a release refuses a schema it cannot run on
  # at start) and pass the ALB's /api/v1/health/live checks before old ones drain.
  # The deployment circuit breaker rolls back by itself if the new tasks keep failing.
  aws ecs wait services-stable --cluster "$cluster" --services "$service"
  # shellcheck disable=SC2016 # the backticks are JMESPath literals
  running=$(aws ecs describe-services --cluster "$cluster" --services "$service" \
    --query 'services[0].deployments[?status==`PRIMARY`].taskDefinition | [0]' --output text)
  if [ "$running" != "$definition" ]; then
    echo "::error::the service is stable on $running, not $definition: the circuit breaker went back (the release refused this schema, or failed to start)"
    exit 1
  fi
  echo "service stable on $definition"
}

# Runs DEFINITION once on Fargate in CLUSTER with NETWORK (run-task's JSON form), started by
# STARTED_BY, with the `--overrides` JSON if given; waits for it to stop and prints the
# container's exit code on stdout (what it says goes to stderr).
run_once() {
  local cluster=$1 definition=$2 network=$3 started_by=$4 overrides=${5:-} task
  task=$(aws ecs run-task --cluster "$cluster" --launch-type FARGATE \
    --task-definition "$definition" --network-configuration "$network" \
    ${overrides:+--overrides "$overrides"} --started-by "$started_by" \
    --query 'tasks[0].taskArn' --output text)
  echo "one-off task $task" >&2
  aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
  aws ecs describe-tasks --cluster "$cluster" --tasks "$task" \
    --query 'tasks[0].containers[0].exitCode' --output text
}

case "${1:?usage: ecs.sh snapshot TAG | migrate | roll | url | rollback ENV IMAGE:TAG}" in
  snapshot)
    tag=${2:?image tag}
    db=$(out db_instance_identifier)
    # Snapshot ids allow letters, digits and single hyphens: v1.2.3 becomes v1-2-3.
    safe=$(printf '%s' "${tag:0:12}" | tr -c 'a-zA-Z0-9' '-' | tr -s '-')
    id="${db}-pre-${safe}-$(date -u +%Y%m%d%H%M%S)"
    echo "snapshot $id of $db"
    aws rds create-db-snapshot --db-instance-identifier "$db" --db-snapshot-identifier "$id" >/dev/null
    aws rds wait db-snapshot-available --db-snapshot-identifier "$id"
    echo "snapshot $id is available"
    # Per-deploy snapshots are kept for SNAPSHOT_DAYS (30), then deleted; the newest five
    # stay whatever their age, so a quiet month still has a way back.
    cutoff=$(date -u -d "-${SNAPSHOT_DAYS:-30} days" +%Y-%m-%dT%H:%M:%S)
    # shellcheck disable=SC2016 # the backticks are JMESPath literals
    aws rds describe-db-snapshots --db-instance-identifier "$db" --snapshot-type manual \
      --query "reverse(sort_by(DBSnapshots[?starts_with(DBSnapshotIdentifier, \`${db}-pre-\`)], &SnapshotCreateTime))[5:].[DBSnapshotIdentifier, SnapshotCreateTime]" \
      --output text | while read -r old created; do
        if [[ "$created" < "$cutoff" ]]; then
          echo "deleting snapshot $old of $created"
          aws rds delete-db-snapshot --db-snapshot-identifier "$old" >/dev/null
        fi
      done
    ;;
  migrate)
    subnets=$(out private_subnet_ids)
    group=$(out app_security_group_id)
    echo "migration task:"
    code=$(run_once "$(out cluster_name)" "$(out migrate_task_definition_arn)" \
      "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$group],assignPublicIp=DISABLED}" \
      "migrate-${GITHUB_RUN_ID:-manual}")
    echo "migration logs: CloudWatch $(out log_group_name), stream prefix migrate/"
    if [ "$code" != 0 ]; then
      echo "::error::the migration task exited with $code"
      exit 1
    fi
    echo "migrations applied"
    ;;
  roll)
    move_service "$(out cluster_name)" "$(out service_name)" "$(out app_task_definition_arn)"
    ;;
  url)
    out url
    ;;
  rollback)
    env=${2:?environment}
    image=${3:?image:tag}
    cluster="conflicto-$env"
    service="conflicto-$env-app"
    # The revisions Terraform registered stay (skip_destroy); the newest one that runs the
    # image is the release as it last ran, with its own settings.
    definition=
    # shellcheck disable=SC2016 # the backticks are JMESPath literals
    for arn in $(aws ecs list-task-definitions --family-prefix "$service" --status ACTIVE \
        --sort DESC --max-items 100 --query 'taskDefinitionArns[]' --output text); do
      runs=$(aws ecs describe-task-definition --task-definition "$arn" \
        --query 'taskDefinition.containerDefinitions[0].image' --output text)
      if [ "$runs" = "$image" ]; then
        definition=$arn
        break
      fi
    done
    if [ -z "$definition" ]; then
      echo "::error::no registered revision of $service runs $image; deploy it with Terraform instead (deploy-prod.yml)"
      exit 1
    fi
    # The database decision, made by the target release itself before the service moves:
    # no migration runs and none is reverted, so it must serve the current schema. Its
    # `migrate status` (a one-off task of that revision, in the service's own network)
    # exits 0 if it can, 3 if it cannot. Releases from before that exit status exit 0
    # either way; for them the refusal at start and the circuit breaker are the guard.
    network=$(aws ecs describe-services --cluster "$cluster" --services "$service" \
      --query 'services[0].networkConfiguration' --output json)
    echo "schema check (its output: CloudWatch, stream prefix app/):"
    code=$(run_once "$cluster" "$definition" "$network" "rollback-check-${GITHUB_RUN_ID:-manual}" \
      '{"containerOverrides": [{"name": "app", "command": ["migrate", "status"]}]}')
    case "$code" in
      0) echo "$image can serve the current schema; no migration runs" ;;
      3)
        echo "::error::$image cannot serve the current schema (a contract migration came after it): nothing was changed; see docs/runbooks/rollback.md, 'When the old release refuses the schema'"
        exit 1
        ;;
      *)
        echo "::error::the schema check of $image exited with $code; nothing was changed"
        exit 1
        ;;
    esac
    move_service "$cluster" "$service" "$definition"
    # shellcheck disable=SC2016
    aws ecs describe-task-definition --task-definition "$definition" \
      --query 'taskDefinition.containerDefinitions[0].environment[?name==`PUBLIC_BASE_URL`].value | [0]' \
      --output text >"${RUNNER_TEMP:-/tmp}/conflicto-url"
    ;;
  *)
    echo "unknown action $1" >&2
    exit 2
    ;;
esac
