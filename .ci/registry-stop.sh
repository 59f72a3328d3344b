#!/usr/bin/env bash
# Stop the registry .ci/registry-start.sh started under DIR and remove DIR.
set -euo pipefail

dir="${1:-/tmp/imagekit-registry}"
pidfile="$dir/registry.pid"

if [[ -f "$pidfile" ]]; then
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
fi
rm -rf "$dir"
