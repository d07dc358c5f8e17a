#!/usr/bin/env bash
# cairn benchmark, one command: build cairn, start it on a free loopback port with a
# fresh data directory, populate it through the REST API, measure with wrk, and
# (with --plone) measure the Plone anchor with the same shapes in the same run.
# See bench/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"

usage() {
  cat <<'EOF'
usage: bench/run.sh [options]

  --plone URL          also benchmark this Plone site (e.g. http://127.0.0.1:8080/Plone),
                       which must already be populated by the anchor's populate.py
  --plone-auth U:P     credentials for --plone (default admin:admin)
  --duration S         seconds per measured wrk run (default 10)
  --warmup S           warm-up seconds before each read run (default 2; 0 = none)
  --conc LIST          wrk connection counts, comma separated (default 1,8)
  --threads N          wrk threads (default 1, as in the anchor figures)
  --no-cached          skip the runs answered from cairn's response cache (the headline
                       figures are uncached either way)
  --only LIST          only these shapes: doc,doc_editor,folder_anon,folder_editor,folder_full,
                       page_expand,nav3,children,subtree,text_common,text_cold,text_rare,
                       listing,create,trivial,wf_tree
  --wf-tree N          descendants of the folder published with include_children (default 1000; 0 = skip)
  --populate-conc N    concurrent workers while populating cairn (default 4)
  --allow-populate-errors
                       benchmark even if some creates failed while populating
  --no-build           do not run cargo build (use the existing binary)
  --bin PATH           use this cairn binary (implies --no-build)
  --keep               keep cairn's data directory after the run
  --large N            catalog benchmark at scale: generate N objects (cairn-generate: four
                       languages, deep tree, full-text index built alongside) into
                       bench/results/large-N (reused when it exists), report load rate and
                       sizes (results/large.json), then measure against that site instead
                       of the populated one
  --start-timeout S    how long to wait for /healthz (default 60)
  --postgres URL       run cairn on PostgreSQL (scale-out mode) in a fresh schema of the
                       database at URL (psql must reach it); the CPU of the database
                       server's processes is reported per request beside cairn's
                       (db_cpu_ms_per_req in latest.json; BENCH_DB_USER, default postgres)
  -h, --help           this text

Results: bench/results/latest.md and latest.json (cairn's log: bench/results/cairn.log).
EOF
}

die() { echo "bench: ERROR: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

PLONE=""; PLONE_AUTH="admin:admin"; DURATION=10; WARMUP=2; CONC="1,8"; THREADS=1; ONLY=""; WF_TREE=1000; NO_CACHED=0
POP_CONC=4; ALLOW_POP_ERR=0; BUILD=1; BIN=""; KEEP=0; START_TIMEOUT=60; LARGE=0; POSTGRES=""
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --plone) need_arg "$@"; PLONE=$2; shift 2 ;;
    --plone=*) PLONE=${1#*=}; shift ;;
    --plone-auth) need_arg "$@"; PLONE_AUTH=$2; shift 2 ;;
    --duration) need_arg "$@"; DURATION=$2; shift 2 ;;
    --duration=*) DURATION=${1#*=}; shift ;;
    --warmup) need_arg "$@"; WARMUP=$2; shift 2 ;;
    --conc) need_arg "$@"; CONC=$2; shift 2 ;;
    --conc=*) CONC=${1#*=}; shift ;;
    --threads) need_arg "$@"; THREADS=$2; shift 2 ;;
    --only) need_arg "$@"; ONLY=$2; shift 2 ;;
    --no-cached) NO_CACHED=1; shift ;;
    --wf-tree) need_arg "$@"; WF_TREE=$2; shift 2 ;;
    --populate-conc) need_arg "$@"; POP_CONC=$2; shift 2 ;;
    --allow-populate-errors) ALLOW_POP_ERR=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --bin) need_arg "$@"; BIN=$2; BUILD=0; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --large) need_arg "$@"; LARGE=$2; shift 2 ;;
    --start-timeout) need_arg "$@"; START_TIMEOUT=$2; shift 2 ;;
    --postgres) need_arg "$@"; POSTGRES=$2; shift 2 ;;
    --postgres=*) POSTGRES=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$DURATION" =~ ^[0-9]+$ && "$DURATION" -gt 0 ]] || die "--duration must be a positive integer (seconds)"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "--warmup must be an integer (seconds)"
[[ "$CONC" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--conc must look like 1,8"
[[ "$PLONE_AUTH" == *:* ]] || die "--plone-auth must be user:password"
[[ "$LARGE" =~ ^[0-9]+$ ]] || die "--large must be a number of objects"

# ---------------------------------------------------------------- tools
command -v python3 >/dev/null || die "python3 not found"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 8))' || die "python3 >= 3.8 needed"
if ! command -v wrk >/dev/null; then
  say "wrk not found; installing it with apt-get"
  [ "$(id -u)" = 0 ] || die "wrk is missing and we are not root: install it (apt-get install -y wrk)"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } \
    || die "could not install wrk with apt-get"
fi

http_status() {  # http_status URL [user:password] -> prints the status code (000 = no answer)
  python3 - "$@" <<'EOF'
import base64, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], headers={"Accept": "application/json"})
if len(sys.argv) > 2:
    req.add_header("Authorization", "Basic " + base64.b64encode(sys.argv[2].encode()).decode())
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}

# ---------------------------------------------------------------- Plone anchor (checked first: fail early)
if [ -n "$PLONE" ]; then
  case "$PLONE" in
    http://127.0.0.1:*|http://localhost:*) ;;
    *) die "--plone must be a loopback URL like http://127.0.0.1:8080/Plone" ;;
  esac
  st=$(http_status "$PLONE" "$PLONE_AUTH")
  [ "$st" = 200 ] || die "Plone at $PLONE answered $st (expected 200 as ${PLONE_AUTH%%:*}).
       Start the anchor first: bash ../shared/anchors/plone/start.sh (see bench/README.md)"
  say "Plone anchor answers at $PLONE"
fi

# ---------------------------------------------------------------- build
if [ "$BUILD" = 1 ]; then
  command -v cargo >/dev/null || die "cargo not found (or pass --bin PATH)"
  say "cargo build --release -p cairn"
  (cd "$ROOT" && cargo build --release -p cairn) || die "cargo build --release -p cairn failed"
fi
if [ -z "$BIN" ]; then
  TD=""
  if command -v cargo >/dev/null; then
    TD=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
         | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null) || TD=""
  fi
  [ -n "$TD" ] || TD="${CARGO_TARGET_DIR:-$ROOT/target}"
  case "$TD" in /*) ;; *) TD="$ROOT/$TD" ;; esac
  BIN="$TD/release/cairn"
fi
[ -x "$BIN" ] || die "cairn binary not found or not executable: $BIN"

# ---------------------------------------------------------------- start cairn
RESULTS="$HERE/results"
mkdir -p "$RESULTS"
LOG="$RESULTS/cairn.log"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ -n "$POSTGRES" ]; then
  command -v psql >/dev/null || die "--postgres needs psql"
  # A generated large site is kept in a schema of its own and reused.
  if [ "$LARGE" -gt 0 ]; then SCHEMA="bench_large_$LARGE"; else SCHEMA="bench_$(date +%s)_$$"; fi
  psql -q "$POSTGRES" -c "CREATE SCHEMA IF NOT EXISTS $SCHEMA" || die "cannot create schema $SCHEMA in $POSTGRES"
  case "$POSTGRES" in *\?*) J='&' ;; *) J='?' ;; esac
  export CAIRN_DATABASE_URL="$POSTGRES${J}options=-c%20search_path%3D$SCHEMA"
  export BENCH_DB_USER="${BENCH_DB_USER:-postgres}"
  say "on PostgreSQL, schema $SCHEMA"
fi
if [ "$LARGE" -gt 0 ]; then
  # A generated site is expensive: it is kept and reused, with the password it was made with.
  DATA="$RESULTS/large-$LARGE${POSTGRES:+-pg}"
  KEEP=1
  if [ ! -f "$DATA/large.json" ]; then
    rm -rf "$DATA"; mkdir -p "$DATA"
    if [ -n "$POSTGRES" ]; then
      psql -q "$POSTGRES" -c "DROP SCHEMA $SCHEMA CASCADE; CREATE SCHEMA $SCHEMA" || die "cannot recreate schema $SCHEMA"
    fi
    python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$DATA/password"
    say "generating $LARGE objects into $DATA"
    CAIRN_ADMIN_PASSWORD="$(cat "$DATA/password")" "$(dirname "$BIN")/cairn-generate" --data "$DATA" \
      --objects "$LARGE" >"$DATA/generated.json" || die "cairn-generate failed"
    if [ -n "$POSTGRES" ]; then
      # Sizes in the database: everything, and the full-text tables of it.
      q="SELECT coalesce(sum(pg_total_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename))), 0) FROM pg_tables WHERE schemaname = '$SCHEMA'"
      export BENCH_PG_BYTES=$(psql -Atq "$POSTGRES" -c "$q")
      export BENCH_PG_FULLTEXT_BYTES=$(psql -Atq "$POSTGRES" -c "$q AND tablename LIKE 'fulltext%'")
    fi
    python3 "$HERE/large_report.py" "$DATA" || die "large_report.py failed"
  fi
  cp "$DATA/large.json" "$RESULTS/large.json"
  say "large site: $(tr -d '\n ' <"$DATA/large.json")"
  PASS=$(cat "$DATA/password")
else
  DATA=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
  PASS=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
fi
ROOT_URL="http://127.0.0.1:$PORT"
BASE="$ROOT_URL/Plone"

CPID=""
cleanup() {
  local rc=$?
  if [ -n "$CPID" ] && kill -0 "$CPID" 2>/dev/null; then
    kill "$CPID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$CPID" 2>/dev/null && { say "cairn did not stop on SIGTERM; sending SIGKILL"; kill -9 "$CPID" 2>/dev/null || true; }
    wait "$CPID" 2>/dev/null || true
  fi
  if [ "$KEEP" = 1 ]; then say "data directory kept: $DATA"; else rm -rf "$DATA"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting $BIN serve --listen 127.0.0.1:$PORT --data $DATA --no-sample (log: $LOG)"
CAIRN_ADMIN_PASSWORD="$PASS" "$BIN" serve --listen "127.0.0.1:$PORT" --data "$DATA" --no-sample >"$LOG" 2>&1 &
CPID=$!

t0=$(date +%s)
while :; do
  if ! kill -0 "$CPID" 2>/dev/null; then
    wait "$CPID" && rc=0 || rc=$?
    CPID=""
    echo "---- last lines of $LOG ----" >&2; tail -n 30 "$LOG" >&2 || true
    die "cairn exited during start-up (exit status $rc)"
  fi
  [ "$(http_status "$ROOT_URL/healthz")" = 200 ] && break
  if [ $(( $(date +%s) - t0 )) -ge "$START_TIMEOUT" ]; then
    echo "---- last lines of $LOG ----" >&2; tail -n 30 "$LOG" >&2 || true
    die "cairn did not answer 200 on $ROOT_URL/healthz within ${START_TIMEOUT}s"
  fi
  sleep 0.2
done
say "cairn is up after $(( $(date +%s) - t0 )) s (pid $CPID)"
st=$(http_status "$BASE" "admin:$PASS")
[ "$st" = 200 ] || die "GET $BASE with Basic admin:<CAIRN_ADMIN_PASSWORD> answered $st (expected 200)"

# ---------------------------------------------------------------- populate
rm -f "$RESULTS/populate.json"
if [ "$LARGE" -gt 0 ]; then
  say "using the generated site (no populate)"
elif say "populating cairn" && ! BENCH_PASSWORD="$PASS" python3 "$HERE/populate.py" --base "$BASE" --user admin \
       --concurrency "$POP_CONC" --out "$RESULTS/populate.json"; then
  kill -0 "$CPID" 2>/dev/null || { tail -n 30 "$LOG" >&2 || true; die "cairn died while populating"; }
  if [ "$ALLOW_POP_ERR" = 1 ]; then
    say "populating had errors; continuing because of --allow-populate-errors"
  else
    die "populating cairn failed (details above and in $RESULTS/populate.json; log: $LOG)"
  fi
fi

# The full-text index follows the writes on its own schedule: measure the
# searches once it holds them all (the time it took is reported).
idx_start=$(date +%s.%N)
for _ in $(seq 1 1200); do
  curl -fs "$ROOT_URL/metrics" | grep -q '^cairn_search_lag_changes{site="Plone"} 0$' && break
  sleep 0.25
done
curl -fs "$ROOT_URL/metrics" | grep -q '^cairn_search_lag_changes{site="Plone"} 0$' \
  || die "the full-text index did not catch up within 5 minutes (log: $LOG)"
say "full-text index caught up $(python3 -c "import time; print(round(time.time() - $idx_start, 2))") s after populating"
if [ -n "$POSTGRES" ]; then
  # A database in service has been vacuumed and analyzed; one just filled
  # has not, and autovacuum would run during (and be billed to) the first
  # measured shapes.
  tables=$(psql -Atq "$POSTGRES" -c "SELECT string_agg(quote_ident('$SCHEMA') || '.' || quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = '$SCHEMA'")
  psql -q "$POSTGRES" -c "VACUUM ANALYZE $tables" || die "VACUUM ANALYZE failed"
  say "vacuumed and analyzed the schema's tables"
fi

# ---------------------------------------------------------------- measure
args=(--cairn "$BASE" --cairn-pid "$CPID" --duration "$DURATION" --warmup "$WARMUP" --conc "$CONC"
      --threads "$THREADS" --results "$RESULTS" --populate-json "$RESULTS/populate.json")
[ -n "$PLONE" ] && args+=(--plone "$PLONE" --plone-user "${PLONE_AUTH%%:*}")
[ -n "$ONLY" ] && args+=(--only "$ONLY")
[ "$NO_CACHED" = 1 ] && args+=(--no-cached)
[ "$LARGE" -gt 0 ] && args+=(--cairn-big-folder /de/gross --cairn-subtree /de/s3
  --cairn-words Kanton,Zebrastreifenbewilligung)
args+=(--wf-tree "$WF_TREE")
rc=0
BENCH_CAIRN_PASSWORD="$PASS" BENCH_PLONE_PASSWORD="${PLONE_AUTH#*:}" \
  python3 "$HERE/bench.py" "${args[@]}" || rc=$?
if ! kill -0 "$CPID" 2>/dev/null; then
  tail -n 30 "$LOG" >&2 || true
  die "cairn is no longer running after the benchmark (see $LOG)"
fi
case $rc in
  0) say "done: $RESULTS/latest.md" ;;
  3) say "done with problems (skipped shapes or non-2xx answers from cairn): $RESULTS/latest.md"; exit 3 ;;
  *) die "bench.py failed (exit $rc)" ;;
esac
