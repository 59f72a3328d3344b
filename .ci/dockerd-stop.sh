#!/usr/bin/env bash
# Stop the daemon .ci/dockerd-start.sh started under DIR (default /tmp/imagekit-dockerd), then
# clean up what it leaves behind: the mounts under DIR (overlay, shm, netns), and, when no other
# dockerd runs in this network namespace, the docker0 bridge and Docker's iptables chains and
# rules. Removes DIR. Each step is reported on stderr.
#
# The daemon gets SIGTERM and IMAGEKIT_DOCKERD_STOP_TIMEOUT seconds (default 15) to exit, then
# SIGKILL (its containerd with it). A pid that has exited but was not yet reaped counts as gone.
set -euo pipefail

dir="$(realpath -m "${1:-/tmp/imagekit-dockerd}")"
pidfile="$dir/dockerd.pid"
timeout_s="${IMAGEKIT_DOCKERD_STOP_TIMEOUT:-15}"

say() { echo "dockerd-stop: $*" >&2; }

# Alive and not a zombie: a stopped daemon whose parent has not reaped it yet is gone.
alive() { [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

stop_daemon() {
    local pid="$1" deadline children
    children="$(pgrep -P "$pid" || true)"
    say "sending TERM to dockerd (pid $pid); waiting up to ${timeout_s}s"
    kill -TERM "$pid" 2>/dev/null || return 0
    deadline=$((SECONDS + timeout_s))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            say "dockerd (pid $pid) did not exit in ${timeout_s}s; sending KILL to it and its children"
            # shellcheck disable=SC2086  # one pid per word
            kill -KILL "$pid" $children 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    say "dockerd stopped after $((SECONDS - deadline + timeout_s))s"
}

# Another dockerd sharing this network namespace still needs the bridge and the chains.
other_daemon() {
    local mine p
    mine="$(readlink /proc/self/ns/net)"
    for p in $(pgrep -x dockerd || true); do
        if alive "$p" && [[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" == "$mine" ]]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

clean_network() {
    local other table rule chain
    if other="$(other_daemon)"; then
        say "another dockerd (pid $other) runs in this network namespace: docker0 and iptables left as they are"
        return 0
    fi
    if ip link show docker0 >/dev/null 2>&1; then
        say "removing the docker0 bridge"
        ip link delete docker0 || say "could not remove docker0"
    fi
    command -v iptables >/dev/null || return 0
    for table in nat filter; do
        iptables -t "$table" -S >/dev/null 2>&1 || continue
        # Rules in the built-in chains that jump to Docker's chains or name docker0 ...
        local rules=0
        while read -r rule; do
            rules=$((rules + 1))
            # shellcheck disable=SC2086  # the rule is iptables' own word list
            iptables -t "$table" -D ${rule#-A } || true
        done < <(iptables -t "$table" -S | grep -E '^-A (PREROUTING|INPUT|OUTPUT|FORWARD|POSTROUTING) ' |
            grep -E -- '-j DOCKER|docker0' || true)
        # ... then Docker's own chains, flushed before they are deleted (they refer to each other).
        mapfile -t chains < <(iptables -t "$table" -S | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }')
        for chain in "${chains[@]}"; do iptables -t "$table" -F "$chain" || true; done
        for chain in "${chains[@]}"; do iptables -t "$table" -X "$chain" || true; done
        if ((rules + ${#chains[@]})); then
            say "iptables -t $table: removed $rules rule(s) and chains ${chains[*]:-none}"
        fi
    done
}

if [[ ! -d "$dir" ]]; then
    say "nothing to stop: $dir does not exist"
    exit 0
fi
if [[ -f "$pidfile" ]]; then
    pid="$(cat "$pidfile")"
    # Only a dockerd started for this directory: a stale pid file may name a reused pid.
    if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dockerd.*--pidfile=$pidfile"; then
        stop_daemon "$pid"
    else
        say "no dockerd runs from $dir (stale pid file)"
    fi
fi

# Deepest mount points first, so nested mounts (netns, overlay, shm) come off cleanly.
mapfile -t mounts < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
if ((${#mounts[@]})); then
    say "unmounting ${#mounts[@]} mount(s) under $dir"
fi
for m in "${mounts[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" || say "could not unmount $m"
done
clean_network
say "removing $dir"
rm -rf "$dir"
