#!/usr/bin/env bash
# The README's commands. Sets up this machine (system services from Debian's packages when run as
# root, pnpm through corepack, the workspace's dependencies, the build), then:
#   start  brings up the local SBC stack with demo data, until Ctrl-C
#   test   runs formatting, lint, typecheck and every test
#   bench  runs the benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[sbc]\033[0m %s\n' "$*"; }
die() { printf '[sbc] error: %s\n' "$*" >&2; exit 1; }

# Daemons live in /usr/sbin on Debian, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0
# Node 20's corepack does not know the key pnpm's newest releases are signed with; the tarball's
# integrity hash from the registry is still checked.
export COREPACK_INTEGRITY_KEYS=0
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

check_node() {
  command -v node >/dev/null || die "Node.js 20 or newer is required"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is required (found $(node --version))"
}

# command → Debian package that provides it (openssl: throwaway TLS certificates in tests; podman,
# runc, mmdebstrap: the container images suite tests/images; chromium:
# the browser suite tests/webrtc)
SYSTEM_SERVICES=(
  "redis-server:redis-server"
  "redis-sentinel:redis-sentinel"
  "mariadbd:mariadb-server"
  "mariadb-install-db:mariadb-server"
  "rtpengine:rtpengine-daemon"
  "sipp:sip-tester"
  "openssl:openssl"
  "chromium:chromium"
  "influxd:influxdb"
  "podman:podman"
  "runc:runc"
  "mmdebstrap:mmdebstrap"
)

ensure_system_services() {
  local missing=() entry cmd pkg
  for entry in "${SYSTEM_SERVICES[@]}"; do
    cmd=${entry%%:*} pkg=${entry##*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: ${missing[*]} (run as root to install them, or: sudo apt-get install ${missing[*]})"
  fi
  say "installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A pnpm shim from corepack on PATH (turbo looks the package manager up there).
enable_pnpm() {
  local bin="$PWD/.sbc/bin"
  mkdir -p "$bin"
  [ -x "$bin/pnpm" ] || corepack enable --install-directory "$bin" pnpm
  export PATH="$bin:$PATH"
}

install_dependencies() {
  say "installing workspace dependencies (pnpm via corepack)"
  pnpm install --frozen-lockfile --reporter=append-only | grep -vE '^(Progress|Packages):' || true
  [ -d node_modules/.pnpm ] || die "pnpm install failed"
}

setup() {
  check_node
  command -v corepack >/dev/null || die "corepack is missing: it ships with Node.js 20"
  ensure_system_services
  enable_pnpm
  install_dependencies
}

run_tests() {
  rm -rf apps/*/.vitest packages/*/.vitest tests/*/.vitest
  say "checking formatting"
  pnpm exec prettier --check . --log-level warn
  say "build, lint, typecheck and test every package"
  local status=0
  # --continue: one failing package does not hide the results of the others.
  pnpm exec turbo run build lint typecheck test --concurrency=2 --continue --env-mode=loose --output-logs=new-only || status=$?
  node scripts/test-summary.mjs || true
  return $status
}

command=${1:-}
case "$command" in
  start)
    setup
    pnpm exec turbo run build --output-logs=errors-only
    exec node scripts/start-stack.mjs
    ;;
  test)
    setup
    run_tests
    ;;
  bench)
    setup
    pnpm exec turbo run bench --concurrency=1
    ;;
  *)
    die "usage: scripts/sbc.sh start|test|bench"
    ;;
esac
