#!/usr/bin/env bash
# Engine benchmark: Plinth's engine vs onnxruntime (one thread each) on the same models.
# usage: bench/engine/run.sh [ITERATIONS]   (default 2000; run from anywhere)
#        SKIP_BUILD=1 PLINTH_BIN=/path/to/plinth bench/engine/run.sh
# Needs a release build of plinth (built here) and, for the comparison, python3 with
# onnxruntime + numpy (and scikit-learn + skl2onnx to build the tree-ensemble models).
set -euo pipefail
cd "$(dirname "$0")/../.."
iterations="${1:-2000}"
vectors=Tests/PlinthEngineTests/Vectors
models_dir=.build/bench-models

if [ -z "${SKIP_BUILD:-}" ]; then swift build -c release --product plinth >/dev/null; fi
plinth="${PLINTH_BIN:-$(swift build -c release --show-bin-path)/plinth}"

models=("$vectors/mlp_784_256_128_10.onnx" "$vectors/logreg_30.onnx" "$vectors/lenet_cnn.onnx")
if python3 -c "import sklearn, skl2onnx" 2>/dev/null; then
    python3 bench/engine/make_models.py "$models_dir" >/dev/null
    models+=("$models_dir/forest_100.onnx" "$models_dir/gbm_100.onnx")
else
    echo "note: scikit-learn/skl2onnx missing: tree-ensemble models skipped" >&2
fi
have_ort=0
python3 -c "import onnxruntime, numpy" 2>/dev/null && have_ort=1
[ "$have_ort" = 1 ] || echo "note: onnxruntime missing: no comparison" >&2

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), cpus: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf "%-28s %12s %12s %7s %14s %14s %7s\n" model plinth_p50us ort_p50us ratio plinth_rows/s ort_rows/s ratio
for model in "${models[@]}"; do
    name="$(basename "$model")"
    ours="$("$plinth" bench engine "$model" --iterations "$iterations" | grep '^RESULT')"
    p50="$(echo "$ours" | field p50_us)"; rows="$(echo "$ours" | field rows_per_s)"
    if [ "$have_ort" = 1 ]; then
        theirs="$(python3 bench/engine/ort_bench.py "$model" --iterations "$iterations" | grep '^RESULT')"
        op50="$(echo "$theirs" | field p50_us)"; orows="$(echo "$theirs" | field rows_per_s)"
        lat_ratio="$(awk -v a="$p50" -v b="$op50" 'BEGIN { printf "%.2f", a / b }')"
        thr_ratio="$(awk -v a="$rows" -v b="$orows" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
    else
        op50="-"; orows="-"; lat_ratio="-"; thr_ratio="-"
    fi
    printf "%-28s %12s %12s %7s %14s %14s %7s\n" "$name" "$p50" "$op50" "$lat_ratio" "$rows" "$orows" "$thr_ratio"
done
echo "latency ratio = plinth / onnxruntime (lower is better); throughput ratio = plinth / onnxruntime (higher is better)"
