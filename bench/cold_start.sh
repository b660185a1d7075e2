#!/usr/bin/env bash
# Cold start (docs/operations.md#cold-start): a fresh clone, package caches off, `make run` until
# it prints "Sent is running"; RUNS times (default 3), then the median. PORT picks the port.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3} port=${PORT:-8199} times=()
export UV_NO_CACHE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
for i in $(seq "$runs"); do
  tmp=$(mktemp -d)
  git clone --quiet "$repo" "$tmp/sent"
  start=$(date +%s.%N)
  # Its own process group (setsid), so the whole of `make run` is stopped by that group's id.
  ( cd "$tmp/sent" && PORT=$port exec setsid make run >"$tmp/log" 2>&1 ) &
  pid=$!
  until grep -q "Sent is running" "$tmp/log" 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat "$tmp/log"; exit 1; }
    sleep 0.1
  done
  t=$(echo "$(date +%s.%N) - $start" | bc)
  times+=("$t")
  printf 'run %d: %.1f s\n' "$i" "$t"
  kill -INT -- -$pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  rm -rf "$tmp"
done
printf 'median: %.1f s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")"
