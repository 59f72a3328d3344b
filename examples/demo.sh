#!/usr/bin/env bash
# `make demo`: on a fresh Debian/Ubuntu machine, install what is missing, make sure a Docker
# daemon answers, build the example model's image with imagekit, and run it on its reference
# inputs. Run from the repository root after `make setup` (the Makefile does both).
set -euo pipefail

example="${1:-examples/iris}"
imagekit=".venv/bin/imagekit"
dockerd_dir="${IMAGEKIT_DOCKERD_DIR:-/tmp/imagekit-dockerd}"

as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
if ((${#missing[@]})); then
    echo "demo: installing ${missing[*]} with apt" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

started=""
if ! docker version >/dev/null 2>&1; then
    echo "demo: no Docker daemon answers; starting a private one in $dockerd_dir" >&2
    eval "$(as_root .ci/dockerd-start.sh "$dockerd_dir")"
    started=yes
fi

"$imagekit" check "$example"
"$imagekit" build "$example"
image="$("$imagekit" plan --json "$example" | python3 -c \
    'import json, sys; d = json.load(sys.stdin); print(d["name"] + ":" + d["version"])')"
echo "demo: predictions of $image on its reference inputs (no network, non-root):" >&2
docker run --rm --network none "$image"

# The daemon outlives the demo: say how to reuse it (and imagekit) from the user's own shell.
echo
echo "demo: done. To use imagekit and this Docker daemon from your shell:"
echo "    source .venv/bin/activate        # puts imagekit on PATH"
if [[ -n "${DOCKER_HOST:-}" ]]; then
    echo "    export DOCKER_HOST=$DOCKER_HOST"
fi
echo "    make test                        # finds the demo's daemon by itself"
echo "    sudo make test-deps              # first, for the registry and buildah tests too"
if [[ -n "$started" ]]; then
    echo "demo: the daemon keeps running (pid $(cat "$dockerd_dir/dockerd.pid" 2>/dev/null || echo '?'));" \
        "stop it, its docker0 bridge and NAT rules with: sudo .ci/dockerd-stop.sh $dockerd_dir"
fi
