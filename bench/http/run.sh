#!/usr/bin/env bash
# HTTP benchmark: Plinth's GET /healthz vs nginx serving (a) a static file of the same body and
# (b) `return 200` with the same body, with wrk at 1, 16 and 64 connections.
# Usage: bench/http/run.sh            (builds release first unless PLINTH_BIN is set)
# Env:   PLINTH_BIN (default .build/release/plinth), DURATION (default 5s), THREADS (wrk -t, default 2),
#        CONNECTIONS (default "1 16 64"), SKIP_BUILD=1,
#        REPEAT (default 1: on a shared machine use 3; the servers are run interleaved and the best
#        req/s of each, with its latencies, is reported)
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
REPEAT=${REPEAT:-1}
if [[ -z "${PLINTH_BIN:-}" ]]; then
  PLINTH_BIN=.build/release/plinth
  [[ "${SKIP_BUILD:-0}" == 1 ]] || swift build -c release --product plinth >&2
fi
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx not installed" >&2; exit 1; }

TMP=$(mktemp -d /tmp/plinth-bench-http.XXXXXX)
chmod 755 "$TMP"  # nginx workers run unprivileged and must read the static file
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
P_PLINTH=$(free_port); P_STATIC=$(free_port); P_RETURN=$(free_port)
BODY='{"status":"ok"}'
CORES=$(nproc)

# Plinth, one event loop per core like nginx's one worker per core below (serve's default is
# half the cores, leaving the rest to replicas; here no replica runs)
mkdir -p "$TMP/data"
"$PLINTH_BIN" serve --data "$TMP/data" --listen "127.0.0.1:$P_PLINTH" --event-loops "$CORES" >"$TMP/plinth.log" 2>&1 &
PIDS+=($!)

# nginx: one worker per core, no access log
mkdir -p "$TMP/nginx/www" "$TMP/nginx/logs"
printf '%s' "$BODY" >"$TMP/nginx/www/healthz"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes $CORES;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$P_STATIC;
    root $TMP/nginx/www;
    location = /healthz { default_type application/json; }
  }
  server {
    listen 127.0.0.1:$P_RETURN;
    location = /healthz { default_type application/json; return 200 '$BODY'; }
  }
}
CONF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' 2>"$TMP/nginx.log" &
PIDS+=($!)

wait_up() {
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server on port $1 did not come up" >&2; cat "$TMP/plinth.log" "$TMP/nginx.log" >&2; exit 1
}
wait_up "$P_PLINTH"; wait_up "$P_STATIC"; wait_up "$P_RETURN"
for p in "$P_PLINTH" "$P_STATIC" "$P_RETURN"; do
  [[ "$(curl -s "http://127.0.0.1:$p/healthz")" == "$BODY" ]] || { echo "port $p: unexpected body" >&2; exit 1; }
done

# wrk prints latency like 1.23ms / 456.00us / 1.2s; normalise to ms.
to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }
run_wrk() {  # port connections -> "rps p50ms p99ms"
  local out threads=$THREADS
  (( $2 < threads )) && threads=$2
  out=$(wrk -t"$threads" -c"$2" -d"$DURATION" --latency "http://127.0.0.1:$1/healthz")
  local rps p50 p99
  rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

best() {  # keep the line with the highest req/s
  awk 'BEGIN { b = -1 } { if ($1 + 0 > b) { b = $1 + 0; line = $0 } } END { print line }'
}

echo "# HTTP GET /healthz, wrk -t$THREADS -d$DURATION, best of $REPEAT, $CORES cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-14s %12s %10s %10s\n' conns server req/s p50_ms p99_ms
for c in $CONNECTIONS; do
  o1=""; o2=""; o3=""
  for _ in $(seq 1 "$REPEAT"); do
    o1+="$(run_wrk "$P_PLINTH" "$c")"$'\n'
    o2+="$(run_wrk "$P_STATIC" "$c")"$'\n'
    o3+="$(run_wrk "$P_RETURN" "$c")"$'\n'
  done
  read -r r1 a1 b1 <<<"$(printf '%s' "$o1" | best)"
  read -r r2 a2 b2 <<<"$(printf '%s' "$o2" | best)"
  read -r r3 a3 b3 <<<"$(printf '%s' "$o3" | best)"
  printf '%-6s %-14s %12s %10s %10s\n' "$c" plinth "$r1" "$a1" "$b1"
  printf '%-6s %-14s %12s %10s %10s\n' "$c" nginx-static "$r2" "$a2" "$b2"
  printf '%-6s %-14s %12s %10s %10s\n' "$c" nginx-return "$r3" "$a3" "$b3"
  awk -v a="$r1" -v b="$r2" -v c="$r3" -v n="$c" \
    'BEGIN { printf "%-6s ratio plinth/nginx-static %.2f, plinth/nginx-return %.2f\n", n, a/b, a/c }'
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
