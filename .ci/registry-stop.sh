#!/usr/bin/env bash
# Stop the registry .ci/registry-start.sh started under DIR and remove DIR.
set -euo pipefail

dir="$(realpath -m "${1:-/tmp/imagekit-registry}")"
pidfile="$dir/registry.pid"

if [[ -f "$pidfile" ]]; then
    pid="$(cat "$pidfile")"
    # Only the registry started for this directory: a stale pid file may name a reused pid.
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "docker-registry serve $dir/config.yml"; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
fi
rm -rf "$dir"
