#!/usr/bin/env bash
# Refreshes the screenshots in docs/images/user-guide/ from the browser test of a whole
# event (tests/browser/event.rs). Needs chromium and chromium-driver (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFLICTO_REQUIRE_BROWSER=1 cargo test --test browser
dest=docs/images/user-guide
mkdir -p "$dest"
for name in 01-login 02-builder-poll-editor 03-builder-quiz-editor 05-screen-join-1920x1080 \
            08-phone-poll 09-screen-poll 11-screen-word-cloud 13-phone-qna 15-run-qna \
            16-screen-poker-revealed 19-screen-quiz-leaderboard 20-phone-quiz-revealed \
            21-screen-buzzer 23-run-view 25-report 26-phone-join-de; do
  cp "target/browser-artifacts/$name.png" "$dest/$name.png"
done
echo "copied $(find "$dest" -maxdepth 1 -type f | wc -l) screenshots to $dest"
