#!/usr/bin/env bash
# Start a local, unauthenticated registry (Debian's docker-registry) on 127.0.0.1:5000 with its
# storage under DIR (default /tmp/imagekit-registry). Stop it with .ci/registry-stop.sh DIR.
# Prints `export IMAGEKIT_TEST_REGISTRY=127.0.0.1:5000` on stdout.
set -euo pipefail

dir="$(realpath -m "${1:-/tmp/imagekit-registry}")"
addr="${IMAGEKIT_REGISTRY_ADDR:-127.0.0.1:5000}"
timeout_s=30
pidfile="$dir/registry.pid"
log="$dir/registry.log"

if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "registry-start: a registry already runs from $dir (pid $(cat "$pidfile"))" >&2
    echo "export IMAGEKIT_TEST_REGISTRY=$addr"
    exit 0
fi
mkdir -p "$dir/storage"
cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $addr
YAML

setsid /usr/bin/docker-registry serve "$dir/config.yml" >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"

deadline=$((SECONDS + timeout_s))
until curl -fsS "http://$addr/v2/" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null || ((SECONDS >= deadline)); then
        echo "registry-start: registry did not answer on http://$addr/v2/; log tail ($log):" >&2
        tail -n 20 "$log" >&2 || true
        kill "$(cat "$pidfile")" 2>/dev/null || true
        exit 1
    fi
    sleep 0.2
done
echo "registry-start: registry ready on $addr (pid $(cat "$pidfile"))" >&2
echo "export IMAGEKIT_TEST_REGISTRY=$addr"
