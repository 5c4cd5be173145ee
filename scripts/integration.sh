#!/usr/bin/env bash
# The integration suite against any deployment: `conflicto smoke` (the critical path), then a
# small live event with `conflicto loadtest`: 50 phones join at 5/s (below the per-address
# join limit) and hold live streams through a poll, a word cloud and a Q&A, and every count
# is checked exactly. Needs an organizer token in CONFLICTO_TOKEN. CONFLICTO names the
# binary (default: target/release/conflicto); the pipelines run the deployed image instead:
# CONFLICTO="docker run --rm -e CONFLICTO_TOKEN IMAGE".
#   scripts/integration.sh https://dev.conflicto.app
set -euo pipefail
url=${1:?usage: integration.sh URL}
: "${CONFLICTO_TOKEN:?set CONFLICTO_TOKEN to an organizer API token}"
read -r -a conflicto <<<"${CONFLICTO:-target/release/conflicto}"
"${conflicto[@]}" smoke --url "$url"
"${conflicto[@]}" loadtest --url "$url" --participants "${INTEGRATION_PARTICIPANTS:-50}" \
  --join-rate 5 --vote-within 5 --timeout-seconds 300
