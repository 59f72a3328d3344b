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

if ! docker version >/dev/null 2>&1; then
    echo "demo: no Docker daemon answers; starting a private one in $dockerd_dir" >&2
    eval "$(as_root .ci/dockerd-start.sh "$dockerd_dir")"
    echo "demo: stop it later with: sudo .ci/dockerd-stop.sh $dockerd_dir" >&2
    echo "demo: use it with:        export DOCKER_HOST=$DOCKER_HOST" >&2
fi

"$imagekit" check "$example"
"$imagekit" build "$example"
image="$("$imagekit" plan --json "$example" | python3 -c \
    'import json, sys; d = json.load(sys.stdin); print(d["name"] + ":" + d["version"])')"
echo "demo: predictions of $image on its reference inputs (no network, non-root):" >&2
docker run --rm --network none "$image"
