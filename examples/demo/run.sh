#!/usr/bin/env bash
# The offline demo: queue the bundled example deliveries, run one worker pass, print the stats.
# Needs no keys and no network. With ANTHROPIC_API_KEY set it makes real analyses in dry run.
# State goes to ./.demo (override with HLS_DEMO_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
demo_dir="${HLS_DEMO_DIR:-.demo}"
rm -rf "$demo_dir"
mkdir -p "$demo_dir"
export HLS_DB="$demo_dir/hls.db"
export HLS_CONFIG=examples/demo/settings.yaml
unset HLS_GITHUB_WEBHOOK_SECRET GITHUB_TOKEN

echo "== hls queue: what the relay runs once per delivery"
for payload in examples/demo/payloads/*.json; do
  name="$(basename "$payload" .json)"
  event="${name#*-}"
  ./bin/hls queue --event "$event" --delivery "demo-${name%%-*}-0000-4000-8000-000000000000" --body-file "$payload"
done
echo "== a redelivery of the same GUID is not stored twice"
./bin/hls queue --event issues --delivery demo-2-0000-4000-8000-000000000000 --body-file examples/demo/payloads/2-issues.json

echo "== hls worker --once: filter, build context, render the prompt, ask Claude (if a key is set), record"
./bin/hls worker --once --id demo

echo "== hls stats"
./bin/hls stats
echo "== hls show 2"
./bin/hls show 2
echo "== hls render 2: the exact prompt for the issue"
./bin/hls render 2 | head -40
echo "…"
echo
echo "Database: $HLS_DB  (try: ./bin/hls stats --json --db $HLS_DB; sqlite3 $HLS_DB 'select * from claude_analyses')"
