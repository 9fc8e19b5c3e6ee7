#!/usr/bin/env bash
# Gateway benchmark: OIP v2 JSON inference through `plinth serve` (gateway, API key, metering) vs
# straight at `plinth runtime` on TCP, for a 784-input MLP and a 30-feature logistic regression,
# with wrk at 1, 16 and 64 connections. Optionally Seldon MLServer, FastAPI+onnxruntime and nginx
# answering each model's response as a canned body of the same size (the ceiling for any server).
#
# usage: bench/gateway/run.sh [--with-references]
# env:   PLINTH_BIN (default .build/release/plinth, built unless SKIP_BUILD=1), DURATION (10s),
#        THREADS (wrk -t, 2), CONNECTIONS ("1 16 64"), RUNTIME_THREADS (compute threads per runtime, 1),
#        WARMUP (unmeasured wrk run before each measurement, 2s; 0 for none), ROUNDS (1: each
#        target measured ROUNDS times, interleaved, median reported), BATCH (the deployments'
#        batching.maxBatchSize, 64; 1 for none: requests that reach a replica in the same event-loop
#        round are merged, never waiting for more)
set -euo pipefail
cd "$(dirname "$0")/../.."

WITH_REFERENCES=0
for arg in "$@"; do
  case "$arg" in
    --with-references) WITH_REFERENCES=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
RUNTIME_THREADS=${RUNTIME_THREADS:-1}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-1}
if [[ -z "${PLINTH_BIN:-}" ]]; then
  PLINTH_BIN=.build/release/plinth
  [[ "${SKIP_BUILD:-0}" == 1 ]] || swift build -c release --product plinth >&2
fi
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 1; }
VECTORS=Tests/PlinthEngineTests/Vectors
MODELS=("mlp:$VECTORS/mlp_784_256_128_10.onnx" "logreg:$VECTORS/logreg_30.onnx")

TMP=$(mktemp -d /tmp/plinth-bench-gateway.XXXXXX)
chmod 711 "$TMP"  # replicas run as an unprivileged uid and must traverse to their folder
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

source bench/gateway/common.sh
to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { [[ -n "$1" ]] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
run_wrk() {  # url connections body-file api-key [pid] -> "rps p50ms p99ms errors cpu_us_per_request(pid)"
  local out threads=$THREADS pid=${5:-} before after
  (( $2 < threads )) && threads=$2
  # Each target gets the same unmeasured run first: the first seconds after a start or a switch
  # between targets (caches, pools, the kernel's socket memory) were reliably slower.
  [[ "$WARMUP" == 0 ]] || BODY_FILE="$3" API_KEY="$4" wrk -t"$threads" -c"$2" -d"$WARMUP" -s bench/gateway/infer.lua "$1" >/dev/null
  before=$(cpu_ticks "$pid")
  out=$(BODY_FILE="$3" API_KEY="$4" wrk -t"$threads" -c"$2" -d"$DURATION" --latency -s bench/gateway/infer.lua "$1")
  after=$(cpu_ticks "$pid")
  local rps p50 p99 errors requests cpu
  rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  cpu=$(awk -v a="$before" -v b="$after" -v n="$requests" -v hz="$CLK_TCK" \
    'BEGIN { if (n > 0 && b > a) printf "%.1f", (b - a) / hz * 1e6 / n; else print "-" }')
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${errors:-0} $cpu"
}

# 1. Runtimes alone, on TCP (wrk cannot speak to a Unix socket).
declare -A DIRECT BODY RUNTIME_PID
for entry in "${MODELS[@]}"; do
  name=${entry%%:*}; file=${entry#*:}
  port=$(free_port)
  "$PLINTH_BIN" runtime --model "$file" --name "$name" --listen "127.0.0.1:$port" --threads "$RUNTIME_THREADS" --max-batch "${BATCH:-64}" \
    >"$TMP/runtime-$name.log" 2>&1 &
  PIDS+=($!)
  RUNTIME_PID[$name]=$!
  DIRECT[$name]="http://127.0.0.1:$port"
  wait_for "${DIRECT[$name]}/v2/models/$name" || { echo "runtime $name did not start" >&2; cat "$TMP/runtime-$name.log" >&2; exit 1; }
  curl -sf "${DIRECT[$name]}/v2/models/$name" | python3 bench/gateway/make_request.py >"$TMP/$name.json"
  BODY[$name]="$TMP/$name.json"
  code=$(curl -s -o "$TMP/$name.answer" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"${BODY[$name]}" "${DIRECT[$name]}/v2/models/$name/infer")
  [[ "$code" == 200 ]] || { echo "runtime $name: infer answered $code" >&2; exit 1; }
done

# 2. plinth serve: control plane + gateway + local worker. Tenant, models, deployments and an
#    invoker API key through the /v1 API (docs/api.md).
GATEWAY=1
PW="bench-$(date +%s)-pw"
SERVE_PORT=$(free_port)
S="http://127.0.0.1:$SERVE_PORT"
mkdir -p "$TMP/data"
PLINTH_ADMIN_PASSWORD="$PW" "$PLINTH_BIN" serve --data "$TMP/data" --listen "127.0.0.1:$SERVE_PORT" >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
SERVE_PID=$!
wait_for "$S/healthz" || { echo "plinth serve did not start" >&2; cat "$TMP/serve.log" >&2; exit 1; }
TOKEN=$(curl -sf -u "admin:$PW" -X POST "$S/v1/auth/token" | json_field '["token"]' 2>/dev/null || true)
if [[ -z "$TOKEN" ]]; then
  echo "note: this plinth serve has no /v1 control plane yet: gateway numbers skipped" >&2
  GATEWAY=0
else
  api -X POST "$S/v1/tenants" -d '{"name":"bench"}' >/dev/null
  for entry in "${MODELS[@]}"; do
    deploy_model bench "${entry%%:*}" "${entry#*:}"
  done
  KEY=$(api -X POST "$S/v1/tenants/bench/keys" -d '{"role":"invoker","name":"bench"}' | json_field '["key"]')
  for entry in "${MODELS[@]}"; do
    name=${entry%%:*}
    wait_for "$S/v2/models/$name/ready" -H "Authorization: Bearer $KEY" \
      || { echo "deployment $name never became ready" >&2; tail -50 "$TMP/serve.log" >&2; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
      --data-binary @"${BODY[$name]}" "$S/v2/models/$name/infer")
    [[ "$code" == 200 ]] || { echo "gateway $name: infer answered $code" >&2; exit 1; }
  done
fi

# 3. References (optional): FastAPI + uvicorn + onnxruntime, Seldon MLServer 1.7.1 + onnxruntime.
declare -A FASTAPI
MLSERVER=""
if [[ "$WITH_REFERENCES" == 1 ]]; then
  VENV=.build/bench-venv
  if [[ ! -x "$VENV/bin/mlserver" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "mlserver==1.7.1" "uvloop<0.22" fastapi uvicorn onnxruntime numpy >&2
  fi
  for entry in "${MODELS[@]}"; do
    name=${entry%%:*}; file=${entry#*:}
    port=$(free_port)
    (cd bench/gateway && MODEL="$OLDPWD/$file" NAME="$name" "$OLDPWD/$VENV/bin/uvicorn" fastapi_onnx:app \
      --host 127.0.0.1 --port "$port" --workers 1 --loop uvloop --log-level warning) >"$TMP/fastapi-$name.log" 2>&1 &
    PIDS+=($!)
    FASTAPI[$name]="http://127.0.0.1:$port"
    wait_for "${FASTAPI[$name]}/v2/models/$name" || { echo "fastapi $name did not start" >&2; cat "$TMP/fastapi-$name.log" >&2; exit 1; }
  done
  repo="$TMP/mlserver"; mkdir -p "$repo"
  cp bench/gateway/mlserver_onnx.py "$repo/"
  port=$(free_port)
  printf '{"http_port": %s, "grpc_port": %s, "metrics_port": %s, "host": "127.0.0.1"}\n' \
    "$port" "$(free_port)" "$(free_port)" >"$repo/settings.json"
  for entry in "${MODELS[@]}"; do
    name=${entry%%:*}; file=${entry#*:}
    mkdir -p "$repo/$name"
    printf '{"name": "%s", "implementation": "mlserver_onnx.OnnxModel", "parameters": {"uri": "%s"}}\n' \
      "$name" "$PWD/$file" >"$repo/$name/model-settings.json"
  done
  (cd "$repo" && "$OLDPWD/$VENV/bin/mlserver" start .) >"$TMP/mlserver.log" 2>&1 &
  PIDS+=($!)
  MLSERVER="http://127.0.0.1:$port"
  for entry in "${MODELS[@]}"; do
    name=${entry%%:*}
    wait_for "$MLSERVER/v2/models/$name/ready" || { echo "mlserver $name did not start" >&2; tail -30 "$TMP/mlserver.log" >&2; exit 1; }
  done
  # nginx: one worker per core, no access log, each model's real answer as a canned body (it still
  # reads and discards the same request body).
  if command -v nginx >/dev/null; then
    NGINX_PORT=$(free_port)
    mkdir -p "$TMP/nginx/logs"
    {
      echo "worker_processes $(nproc); pid $TMP/nginx/nginx.pid; error_log $TMP/nginx/logs/error.log warn;"
      echo "events { worker_connections 4096; }"
      echo "http { access_log off; keepalive_requests 1000000; client_body_temp_path $TMP/nginx/body;"
      echo "  client_max_body_size 16m; client_body_buffer_size 1m;"
      echo "  server { listen 127.0.0.1:$NGINX_PORT;"
      for entry in "${MODELS[@]}"; do
        name=${entry%%:*}
        echo "    location = /v2/models/$name/infer { default_type application/json; return 200 '$(cat "$TMP/$name.answer")'; }"
      done
      echo "  }"
      echo "}"
    } >"$TMP/nginx/nginx.conf"
    nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;' 2>"$TMP/nginx.log" &
    PIDS+=($!)
    NGINX="http://127.0.0.1:$NGINX_PORT"
    wait_for "$NGINX/v2/models/${MODELS[0]%%:*}/infer" -X POST --data-binary @"${BODY[${MODELS[0]%%:*}]}" \
      || { echo "nginx did not start" >&2; cat "$TMP/nginx.log" >&2; exit 1; }
  else
    echo "note: nginx not installed: no canned-answer reference" >&2
    NGINX=""
  fi
fi

echo "# OIP v2 JSON infer, one example per request; wrk -t$THREADS -d$DURATION (after a $WARMUP warm-up);" \
  "$(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg); runtime compute threads: $RUNTIME_THREADS;" \
  "deployments and the direct runtimes batch up to ${BATCH:-64} rows, no delay;" \
  "median of $ROUNDS interleaved round(s)"
echo "# cpu_us/req: CPU time (user+system) per request of the runtime process (runtime rows) or of the"
echo "# plinth serve process, i.e. gateway + control plane, without the replica (gateway rows)"
printf '%-7s %-6s %-12s %10s %9s %9s %7s %11s\n' model conns target req/s p50_ms p99_ms non2xx cpu_us/req
row() { printf '%-7s %-6s %-12s %10s %9s %9s %7s %11s\n' "$@"; }
measure() {  # target model conns -> run_wrk's line
  case "$1" in
    runtime) run_wrk "${DIRECT[$2]}/v2/models/$2/infer" "$3" "${BODY[$2]}" "" "${RUNTIME_PID[$2]}" ;;
    gateway) run_wrk "$S/v2/models/$2/infer" "$3" "${BODY[$2]}" "$KEY" "$SERVE_PID" ;;
    fastapi-ort) run_wrk "${FASTAPI[$2]}/v2/models/$2/infer" "$3" "${BODY[$2]}" "" ;;
    mlserver) run_wrk "$MLSERVER/v2/models/$2/infer" "$3" "${BODY[$2]}" "" ;;
    nginx-canned) run_wrk "$NGINX/v2/models/$2/infer" "$3" "${BODY[$2]}" "" ;;
  esac
}
TARGETS=(runtime)
[[ "$GATEWAY" == 1 ]] && TARGETS+=(gateway)
if [[ "$WITH_REFERENCES" == 1 ]]; then
  TARGETS+=(fastapi-ort mlserver)
  [[ -n "$NGINX" ]] && TARGETS+=(nginx-canned)
fi
for entry in "${MODELS[@]}"; do
  name=${entry%%:*}
  for c in $CONNECTIONS; do
    # Targets take turns within a round, so a machine that speeds up or slows down (shared hosts
    # do, by tens of percent over minutes) weighs on all of them alike; each row is the round
    # with the median req/s of that target.
    declare -A RESULT=()
    for ((round = 1; round <= ROUNDS; round++)); do
      for t in "${TARGETS[@]}"; do RESULT[$t:$round]=$(measure "$t" "$name" "$c"); done
    done
    declare -A MEDIAN=()
    for t in "${TARGETS[@]}"; do
      MEDIAN[$t]=$(for ((round = 1; round <= ROUNDS; round++)); do echo "${RESULT[$t:$round]}"; done \
        | sort -n -k1,1 | sed -n "$(( (ROUNDS + 1) / 2 ))p")
      read -r r a b e u <<<"${MEDIAN[$t]}"
      [[ "$t" == runtime || "$t" == gateway ]] || u="-"
      row "$name" "$c" "$t" "$r" "$a" "$b" "$e" "$u"
    done
    if [[ "$GATEWAY" == 1 ]]; then
      read -r r a _ <<<"${MEDIAN[runtime]}"
      read -r g ga _ <<<"${MEDIAN[gateway]}"
      awk -v n="$name" -v c="$c" -v r="$r" -v g="$g" -v a="$a" -v ga="$ga" \
        'BEGIN { printf "%-7s %-6s gateway/runtime throughput %.2f, p50 overhead %+.3f ms\n", n, c, g/r, ga-a }'
      if [[ "$WITH_REFERENCES" == 1 ]]; then
        read -r f _ <<<"${MEDIAN[fastapi-ort]}"
        read -r m _ <<<"${MEDIAN[mlserver]}"
        x=0
        [[ -n "$NGINX" ]] && read -r x _ <<<"${MEDIAN[nginx-canned]}"
        awk -v n="$name" -v c="$c" -v g="$g" -v f="$f" -v m="$m" -v x="$x" 'BEGIN {
          printf "%-7s %-6s gateway vs mlserver %.1fx, vs fastapi %.1fx", n, c, g/m, g/f
          if (x > 0) printf ", vs nginx-canned %.2fx", g/x
          printf "\n" }'
      fi
    fi
    unset RESULT MEDIAN
  done
done
