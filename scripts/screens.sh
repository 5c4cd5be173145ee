#!/usr/bin/env bash
# The whole big-screen matrix: every kind at 1280x720, 1920x1080 and 3840x2160 with 0, 3, 50
# and 500 people (CI runs 0, 3 and 50). Each screen must keep everything on it with text
# the room can read (tests/browser/crowd.rs); screenshots and a contact sheet
# (crowd-contact.png) land in target/browser-artifacts/.
#   scripts/screens.sh            # 0,3,50,500
#   scripts/screens.sh 500        # just 500
set -euo pipefail
cd "$(dirname "$0")/.."
export CONFLICTO_CROWDS="${1:-0,3,50,500}"
export CONFLICTO_REQUIRE_BROWSER=1
exec cargo test --features toy-kind --test browser crowd -- --nocapture
