#!/usr/bin/env bash
# `make test-deps` (root): what `make test` needs to run every test but the GPU ones, as
# .ci/run provides it in CI: the apt packages (docker.io, mmdebstrap, docker-registry, skopeo,
# buildah, ...), a private Docker daemon and a local registry when none runs. Prints the export
# lines for them on stdout; `make test` finds both by itself (see the Makefile).
set -euo pipefail

cd "$(dirname "$0")/.."
ci="$PWD/.ci"
dockerd_dir="${IMAGEKIT_DOCKERD_DIR:-/tmp/imagekit-dockerd}"
registry_dir="${IMAGEKIT_REGISTRY_DIR:-/tmp/imagekit-registry}"

if [[ $EUID -ne 0 ]]; then
    echo "test-deps: must run as root (apt-get, dockerd): sudo make test-deps" >&2
    exit 1
fi
packages=(docker.io mmdebstrap docker-registry skopeo buildah gpgv debian-archive-keyring curl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "test-deps: installing ${missing[*]} with apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$ci/dockerd-start.sh" "$dockerd_dir"
"$ci/registry-start.sh" "$registry_dir"
echo "test-deps: stop them with: sudo .ci/dockerd-stop.sh $dockerd_dir; .ci/registry-stop.sh $registry_dir" >&2
