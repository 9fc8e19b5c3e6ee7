#!/usr/bin/env bash
# Instructions per request (user space, valgrind callgrind) of `plinth runtime` alone and of
# `plinth serve` (gateway + control plane, the replica runs natively) for OIP v2 JSON infer.
# Repeatable on a shared machine, unlike req/s. Kernel work is not counted: NATIVE=1 runs the
# same steps without valgrind and prints context switches and read/write-class syscalls per
# request instead (from /proc; timing-dependent, but far steadier than req/s).
#
# usage: bench/gateway/instructions.sh [runtime|gateway]...   (default: both)
# env:   PLINTH_BIN (.build/release/plinth, built unless SKIP_BUILD=1), MODELS ("mlp logreg"),
#        CONNECTIONS ("1 64"), DURATION (wrk -d per measurement, 10s), KEEP=1 keeps callgrind.out files,
#        NATIVE=1 (no valgrind)
set -euo pipefail
cd "$(dirname "$0")/../.."

TARGETS=("$@"); [[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(runtime gateway)
MODELS=${MODELS:-"mlp logreg"}
CONNECTIONS=${CONNECTIONS:-"1 64"}
DURATION=${DURATION:-10s}
if [[ -z "${PLINTH_BIN:-}" ]]; then
  PLINTH_BIN=.build/release/plinth
  [[ "${SKIP_BUILD:-0}" == 1 ]] || swift build -c release --product plinth >&2
fi
PLINTH_BIN=$(realpath "$PLINTH_BIN")
NATIVE=${NATIVE:-0}
TOOLS="wrk valgrind callgrind_control"
[[ "$NATIVE" == 1 ]] && TOOLS=wrk
for tool in $TOOLS; do command -v $tool >/dev/null || { echo "$tool not installed" >&2; exit 1; }; done
VECTORS=Tests/PlinthEngineTests/Vectors
declare -A FILE=([mlp]=$VECTORS/mlp_784_256_128_10.onnx [logreg]=$VECTORS/logreg_30.onnx)

TMP=$(mktemp -d /tmp/plinth-instr.XXXXXX)
chmod 711 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ "${KEEP:-0}" == 1 ]] && echo "callgrind files kept in $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_for() {
  local url=$1; shift
  for _ in $(seq 1 1200); do curl -sf -o /dev/null "$@" "$url" && return 0; sleep 0.1; done
  return 1
}
# Sum over the threads of a process of a /proc/PID/task/*/status or stat field.
ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s+0}'; }
syscalls() { cat /proc/"$1"/task/*/io 2>/dev/null | awk '/^syscr|^syscw/ {s += $2} END {print s+0}'; }
grind() {  # label pid url key body conns: zero counters, run wrk, dump, print Ir/request
  local label=$1 pid=$2 url=$3 key=$4 body=$5 c=$6 out requests ir cs0 cs1 sc0 sc1 threads=1
  BODY_FILE="$body" API_KEY="$key" wrk -t1 -c"$c" -d2s -s bench/gateway/infer.lua "$url" >/dev/null  # warm-up
  [[ "$NATIVE" == 1 ]] || callgrind_control -z "$pid" >/dev/null
  cs0=$(ctx_switches "$pid"); sc0=$(syscalls "$pid")
  out=$(BODY_FILE="$body" API_KEY="$key" wrk -t$threads -c"$c" -d"$DURATION" -s bench/gateway/infer.lua "$url")
  cs1=$(ctx_switches "$pid"); sc1=$(syscalls "$pid")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  local non2xx; non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  if [[ "$NATIVE" == 1 ]]; then
    awk -v l="$label" -v c="$c" -v n="$requests" -v cs=$((cs1 - cs0)) -v sc=$((sc1 - sc0)) -v e="${non2xx:-0}" \
      'BEGIN { printf "%-16s conns %-3s requests %7d  ctx-switches/req %5.2f  read+write syscalls/req %5.2f  non2xx %s\n",
        l, c, n, cs / n, sc / n, e }'
    return
  fi
  callgrind_control -d "$label-c$c" "$pid" >/dev/null
  sleep 1
  ir=$(cat "$TMP"/callgrind.out."$pid".* 2>/dev/null | awk -v tag="$label-c$c" '
    /^desc: Trigger:/ { cur = ($0 ~ tag) } /^summary:/ && cur { s += $2 } /^totals:/ && cur { t += $2 }
    END { print (s > 0 ? s : t) + 0 }')
  awk -v l="$label" -v c="$c" -v n="$requests" -v ir="$ir" -v e="${non2xx:-0}" \
    'BEGIN { printf "%-16s conns %-3s requests %7d  instructions/req %9.0f  non2xx %s\n", l, c, n, ir / n, e }'
}

# $1: extra callgrind options. The gateway counts only the event loops' work (every step of a
# proxied request runs there), not the usage folder's or the worker's timers, which would be
# charged to the few requests valgrind lets through per second.
launcher() { [[ "$NATIVE" == 1 ]] || echo "valgrind --tool=callgrind --callgrind-out-file=$TMP/callgrind.out.%p ${1:-}"; }

for target in "${TARGETS[@]}"; do
  case "$target" in
  runtime)
    for name in $MODELS; do
      port=$(free_port)
      (cd "$TMP" && exec $(launcher) "$PLINTH_BIN" runtime --model "$OLDPWD/${FILE[$name]}" --name "$name" --listen "127.0.0.1:$port") \
        >"$TMP/runtime-$name.log" 2>&1 &
      pid=$!; PIDS+=($pid)
      wait_for "http://127.0.0.1:$port/v2/models/$name" || { cat "$TMP/runtime-$name.log" >&2; exit 1; }
      curl -sf "http://127.0.0.1:$port/v2/models/$name" | python3 bench/gateway/make_request.py >"$TMP/$name.json"
      for c in $CONNECTIONS; do
        grind "runtime-$name" "$pid" "http://127.0.0.1:$port/v2/models/$name/infer" "" "$TMP/$name.json" "$c"
      done
      kill "$pid"; wait "$pid" 2>/dev/null || true
    done
    ;;
  gateway)
    # Bodies from a native runtime's metadata (same as run.sh).
    for name in $MODELS; do
      port=$(free_port)
      "$PLINTH_BIN" runtime --model "${FILE[$name]}" --name "$name" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
      p=$!
      wait_for "http://127.0.0.1:$port/v2/models/$name"
      curl -sf "http://127.0.0.1:$port/v2/models/$name" | python3 bench/gateway/make_request.py >"$TMP/$name.json"
      kill $p; wait $p 2>/dev/null || true
    done
    PW="bench-$(date +%s)-pw"
    port=$(free_port); S="http://127.0.0.1:$port"
    mkdir -p "$TMP/data"
    (cd "$TMP" && PLINTH_ADMIN_PASSWORD="$PW" exec $(launcher "--collect-atstart=no --toggle-collect=*EventLoopC3runyyF") "$PLINTH_BIN" serve --data "$TMP/data" --listen "127.0.0.1:$port") >"$TMP/serve.log" 2>&1 &
    pid=$!; PIDS+=($pid)
    wait_for "$S/healthz" || { tail -30 "$TMP/serve.log" >&2; exit 1; }
    TOKEN=$(curl -sf -u "admin:$PW" -X POST "$S/v1/auth/token" | json_field '["token"]')
    api() { curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
    api -X POST "$S/v1/tenants" -d '{"name":"bench"}' >/dev/null
    for name in $MODELS; do
      api -X POST "$S/v1/tenants/bench/models" -d "{\"name\":\"$name\",\"format\":\"onnx\"}" >/dev/null
      curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' -T "${FILE[$name]}" \
        "$S/v1/tenants/bench/models/$name/versions/1/artifact" >/dev/null
      api -X PUT "$S/v1/tenants/bench/deployments/$name" \
        -d "{\"versions\":[{\"model\":\"$name\",\"version\":\"1\",\"weight\":1}],\"instanceClass\":\"cpu-small\",\"minReplicas\":1,\"maxReplicas\":1}" >/dev/null
    done
    KEY=$(api -X POST "$S/v1/tenants/bench/keys" -d '{"role":"invoker","name":"bench"}' | json_field '["key"]')
    for name in $MODELS; do
      wait_for "$S/v2/models/$name/ready" -H "Authorization: Bearer $KEY" || { tail -30 "$TMP/serve.log" >&2; exit 1; }
      for c in $CONNECTIONS; do
        grind "gateway-$name" "$pid" "$S/v2/models/$name/infer" "$KEY" "$TMP/$name.json" "$c"
      done
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
  esac
done
