#!/usr/bin/env bash
# Cold start (docs/operations.md#cold-start): a fresh clone, package caches off, `make run` until
# it prints "Sent is running", then the README's quick-start send (curl) until that message is
# DELIVERED; RUNS times (default 3), then the medians of both. PORT picks the port.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3} port=${PORT:-8199} ready=() delivered=()
export UV_NO_CACHE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
since() { echo "$(date +%s.%N) - $1" | bc; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
json() { python3 -c "import json,sys; b=sys.stdin.read(); d=json.loads(b)['data'] or sys.exit(b); print($1)"; }
for i in $(seq "$runs"); do
  tmp=$(mktemp -d)
  start=$(date +%s.%N)
  git clone --quiet "$repo" "$tmp/sent"
  # Its own process group (setsid), so the whole of `make run` is stopped by that group's id.
  ( cd "$tmp/sent" && PORT=$port exec setsid make run >"$tmp/log" 2>&1 ) &
  pid=$!
  until grep -q "Sent is running" "$tmp/log" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$tmp/log"; exit 1; }
    sleep 0.1
  done
  ready+=("$(since "$start")")
  until key=$(sed -n 's/^ *API key: *\(sent_[^ ]*\).*/\1/p' "$tmp/log" | head -1) && [ -n "$key" ]; do sleep 0.1; done
  # The README's first send, as printed there.
  id=$(curl -s -X POST "http://127.0.0.1:$port/v3/messages" -H "x-api-key: $key" \
    -H 'content-type: application/json' \
    -d '{"to": ["+14155550160"], "template": {"name": "order_shipped",
         "parameters": {"name": "Ana", "order_id": "A-1001", "delivery_date": "Friday"}}}' |
    json "d['recipients'][0]['message_id']")
  until [ "$(curl -s "http://127.0.0.1:$port/v3/messages/$id" -H "x-api-key: $key" |
    json "d['status']")" = DELIVERED ]; do sleep 0.1; done
  delivered+=("$(since "$start")")
  printf 'run %d: ready %.1f s, first DELIVERED %.1f s after the clone began\n' \
    "$i" "${ready[-1]}" "${delivered[-1]}"
  kill -INT -- -$pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  rm -rf "$tmp"
done
printf 'median: ready %.1f s, first DELIVERED %.1f s (%s runs)\n' \
  "$(median "${ready[@]}")" "$(median "${delivered[@]}")" "$runs"
