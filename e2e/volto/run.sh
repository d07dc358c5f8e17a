#!/usr/bin/env bash
# End to end in a real browser: a production Volto 18 build against cairn,
# driven in Debian's headless Chromium by test.mjs (playwright-core, no
# browser download). Screenshots of every step go to the artifacts folder.
# Usage: e2e/volto/run.sh [path/to/cairn]   (default: the debug build)
# Env: CAIRN_VOLTO_CACHE (built Volto, reused), CAIRN_E2E_ARTIFACTS, CHROMIUM.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cairn="${1:-${CARGO_TARGET_DIR:-$root/target}/debug/cairn}"
cache="${CAIRN_VOLTO_CACHE:-$HOME/.cache/cairn/volto}"
artifacts="${CAIRN_E2E_ARTIFACTS:-${CARGO_TARGET_DIR:-$root/target}/e2e-volto}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$cairn" ] || { echo "no cairn binary at $cairn (cargo build first)" >&2; exit 1; }
[ -x "$CHROMIUM" ] || { echo "no Chromium at $CHROMIUM (apt-get install chromium)" >&2; exit 1; }

bash "$here/build-volto.sh" "$cache"
(cd "$here" && npm install --no-audit --no-fund --loglevel=error)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api_port="$(free_port)"
volto_port="$(free_port)"
work="$(mktemp -d)"
rm -rf "$artifacts"
mkdir -p "$artifacts"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export ADMIN_PASSWORD="e2e-admin-pw-1"
cat > "$work/cairn.toml" <<TOML
listen = "127.0.0.1:$api_port"
data = "$work/data"
admin_password = "$ADMIN_PASSWORD"
sample_content = false

[[sites]]
id = "Plone"
title = "Kanton Beispiel"
default_language = "en"
available_languages = ["en", "de"]
multilingual = true
TOML
"$cairn" --config "$work/cairn.toml" serve > "$artifacts/cairn.log" 2>&1 &
pids+=($!)

# Volto's own server proxies /++api++ to cairn with a VirtualHostBase path,
# so every @id cairn writes is Volto's public URL (single-origin set-up).
(
  cd "$cache/app"
  NODE_ENV=production PORT="$volto_port" HOST=127.0.0.1 \
    RAZZLE_API_PATH="http://127.0.0.1:$volto_port" \
    RAZZLE_DEV_PROXY_API_PATH="http://127.0.0.1:$api_port/Plone" \
    exec node build/server.js
) > "$artifacts/volto.log" 2>&1 &
pids+=($!)

wait_for() {
  for _ in $(seq 1 120); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.5
  done
  echo "timed out waiting for $1" >&2
  return 1
}
wait_for "http://127.0.0.1:$api_port/healthz"
wait_for "http://127.0.0.1:$volto_port/ok"

export VOLTO_URL="http://127.0.0.1:$volto_port"
export API_URL="http://127.0.0.1:$api_port/Plone"
export ARTIFACTS="$artifacts"
node "$here/test.mjs"
