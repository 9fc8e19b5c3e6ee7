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
#        NATIVE=1 (no valgrind), SERVE_FLAGS (extra `plinth serve` flags), PER_THREAD=1 (native: per
#        thread), STRACE=1 (native: syscalls per request, strace -c; slows the server)
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

source bench/gateway/common.sh
# Per-process counters summed over its threads (/proc); CPU time in clock ticks.
per_thread() {  # tid total-context-switches name
  for t in /proc/"$1"/task/*; do
    echo "${t##*/} $(awk '/ctxt_switches/ {s += $2} END {print s + 0}' "$t/status" 2>/dev/null) $(tr ' ' _ <"$t/comm" 2>/dev/null)"
  done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s+0}'; }
syscalls() { cat /proc/"$1"/task/*/io 2>/dev/null | awk '/^syscr|^syscw/ {s += $2} END {print s+0}'; }
grind() {  # label pid url key body conns: zero counters, run wrk, dump, print Ir/request
  local label=$1 pid=$2 url=$3 key=$4 body=$5 c=$6 out requests ir cs0 cs1 sc0 sc1 threads=1
  BODY_FILE="$body" API_KEY="$key" wrk -t1 -c"$c" -d2s -s bench/gateway/infer.lua "$url" >/dev/null  # warm-up
  [[ "$NATIVE" == 1 ]] || callgrind_control -z "$pid" >/dev/null
  [[ -n "${PER_THREAD:-}" ]] && per_thread "$pid" >"$TMP/threads.before"
  cs0=$(ctx_switches "$pid"); sc0=$(syscalls "$pid"); t0=$(cpu_ticks "$pid")
  local tracer=""
  if [[ -n "${STRACE:-}" ]]; then  # native: syscall counts of the measured run
    strace -c -f -p "$pid" -o "$TMP/strace.txt" 2>/dev/null &
    tracer=$!
    sleep 1
  fi
  out=$(BODY_FILE="$body" API_KEY="$key" wrk -t$threads -c"$c" -d"$DURATION" -s bench/gateway/infer.lua "$url")
  if [[ -n "$tracer" ]]; then
    kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
    awk -v n="$(awk '/requests in/ {print $1}' <<<"$out")" '$4 ~ /^[0-9]+$/ && NF >= 5 { printf "  %-16s calls/req %6.2f\n", $NF, $4 / n }' \
      "$TMP/strace.txt" | sort -k3 -nr | head -12
  fi
  cs1=$(ctx_switches "$pid"); sc1=$(syscalls "$pid"); t1=$(cpu_ticks "$pid")
  if [[ -n "${PER_THREAD:-}" ]]; then  # context switches per request by thread name
    per_thread "$pid" | awk -v n="$(awk '/requests in/ {print $1}' <<<"$out")" 'NR == FNR { b[$1] = $2; next }
      { d[$3 "#" $1] += $2 - b[$1] } END { for (k in d) if (d[k] > 0) printf "  %-24s ctx-switches/req %5.2f\n", k, d[k] / n }' \
      "$TMP/threads.before" -
  fi
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  local non2xx; non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  if [[ "$NATIVE" == 1 ]]; then
    awk -v l="$label" -v c="$c" -v n="$requests" -v cs=$((cs1 - cs0)) -v sc=$((sc1 - sc0)) -v e="${non2xx:-0}" \
      -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "%-16s conns %-3s requests %7d  cpu_us/req %6.1f  ctx-switches/req %5.2f  read+write syscalls/req %5.2f  non2xx %s\n",
        l, c, n, t / hz * 1e6 / n, cs / n, sc / n, e }'
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
    (cd "$TMP" && PLINTH_ADMIN_PASSWORD="$PW" exec $(launcher "--collect-atstart=no --toggle-collect=*EventLoopC3runyyF") "$PLINTH_BIN" serve --data "$TMP/data" --listen "127.0.0.1:$port" ${SERVE_FLAGS:-}) >"$TMP/serve.log" 2>&1 &
    pid=$!; PIDS+=($pid)
    wait_for "$S/healthz" || { tail -30 "$TMP/serve.log" >&2; exit 1; }
    TOKEN=$(curl -sf -u "admin:$PW" -X POST "$S/v1/auth/token" | json_field '["token"]')
    # A tenant name of its own: replica ids (and their cgroups) derive from the names, and another
    # `plinth serve` on this host using the same ones would clean up (SIGKILL) our replicas.
    T="instr$$"
    api -X POST "$S/v1/tenants" -d "{\"name\":\"$T\"}" >/dev/null
    for name in $MODELS; do deploy_model "$T" "$name" "${FILE[$name]}"; done
    KEY=$(api -X POST "$S/v1/tenants/$T/keys" -d '{"role":"invoker","name":"bench"}' | json_field '["key"]')
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
