#!/usr/bin/env bash
# Start a private Docker daemon (root) whose state lives under one directory.
#
#   eval "$(.ci/dockerd-start.sh [DIR])"     # DIR defaults to /tmp/imagekit-dockerd
#
# Prints `export DOCKER_HOST=unix://DIR/docker.sock` on stdout; progress goes to stderr.
# The daemon keeps default bridge networking. iptables is used when the kernel lets us
# manage NAT rules; otherwise (sandboxes without netfilter) the daemon runs with
# --iptables=false --ip-masq=false. Force a choice with IMAGEKIT_DOCKERD_IPTABLES=true|false.
# Stop it with .ci/dockerd-stop.sh DIR.
set -euo pipefail

dir="$(realpath -m "${1:-/tmp/imagekit-dockerd}")"
timeout_s="${IMAGEKIT_DOCKERD_TIMEOUT:-60}"
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
log="$dir/dockerd.log"

if [[ $EUID -ne 0 ]]; then
    echo "dockerd-start: must run as root" >&2
    exit 1
fi
if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "dockerd-start: a daemon already runs from $dir (pid $(cat "$pidfile"))" >&2
    echo "export DOCKER_HOST=unix://$sock"
    exit 0
fi

iptables_flags=()
use_iptables="${IMAGEKIT_DOCKERD_IPTABLES:-auto}"
if [[ "$use_iptables" == auto ]]; then
    if command -v iptables >/dev/null && iptables -t nat -L -n >/dev/null 2>&1; then
        use_iptables=true
    else
        use_iptables=false
    fi
fi
if [[ "$use_iptables" == false ]]; then
    iptables_flags=(--iptables=false --ip-masq=false)
fi

mkdir -p "$dir/data" "$dir/exec"
echo "dockerd-start: starting dockerd in $dir (iptables=$use_iptables)" >&2
setsid dockerd \
    --data-root="$dir/data" \
    --exec-root="$dir/exec" \
    --pidfile="$pidfile" \
    -H "unix://$sock" \
    "${iptables_flags[@]}" \
    >"$log" 2>&1 </dev/null &
daemon_pid=$!

deadline=$((SECONDS + timeout_s))
until DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; do
    if ! kill -0 "$daemon_pid" 2>/dev/null || ((SECONDS >= deadline)); then
        echo "dockerd-start: daemon did not answer within ${timeout_s}s; log tail ($log):" >&2
        tail -n 30 "$log" >&2 || true
        kill "$daemon_pid" 2>/dev/null || true
        # What the daemon mounted before it failed (its data root on itself) would pin DIR.
        sleep 1
        awk -v d="$dir" 'index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
            while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
        exit 1
    fi
    sleep 0.5
done
echo "dockerd-start: dockerd ready (pid $daemon_pid)" >&2
echo "export DOCKER_HOST=unix://$sock"
