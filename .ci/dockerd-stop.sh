#!/usr/bin/env bash
# Stop the daemon .ci/dockerd-start.sh started under DIR (default /tmp/imagekit-dockerd),
# unmount what it left mounted there, and remove DIR.
set -euo pipefail

dir="$(realpath -m "${1:-/tmp/imagekit-dockerd}")"
pidfile="$dir/dockerd.pid"
timeout_s="${IMAGEKIT_DOCKERD_TIMEOUT:-60}"

if [[ ! -d "$dir" ]]; then
    exit 0
fi
if [[ -f "$pidfile" ]]; then
    pid="$(cat "$pidfile")"
    # Only a dockerd started for this directory: a stale pid file may name a reused pid.
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dockerd.*--pidfile=$pidfile"; then
        kill -TERM "$pid"
        deadline=$((SECONDS + timeout_s))
        while kill -0 "$pid" 2>/dev/null; do
            if ((SECONDS >= deadline)); then
                echo "dockerd-stop: pid $pid did not exit in ${timeout_s}s; sending KILL" >&2
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.5
        done
    fi
fi

# Deepest mount points first, so nested mounts (netns, overlay, shm) come off cleanly.
mapfile -t mounts < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
for m in "${mounts[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" || echo "dockerd-stop: could not unmount $m" >&2
done
rm -rf "$dir"
