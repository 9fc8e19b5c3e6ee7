#!/usr/bin/env bash
# Builds .build/fuzz/engine-fuzzer: the engine's sources compiled with libFuzzer + AddressSanitizer,
# linked against the SwiftPM-built kernel and core modules.
#   tools/fuzz/build.sh
#   .build/fuzz/engine-fuzzer -max_total_time=60 .build/fuzz/corpus Tests/PlinthEngineTests/Vectors
# Keep each crasher as a regression test (ModelLoadingTests) before fixing it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
swift build --target PlinthEngine >/dev/null
bin=$(swift build --show-bin-path)
# SwiftPM names the package after its folder; `package` symbols need the same name.
pkg=$(basename "$root" | sed 's/[^A-Za-z0-9_]/_/g')
mkdir -p .build/fuzz/corpus
# Only the objects of sources that exist now (renamed files leave stale objects behind).
objects() { for f in $(find "Sources/$1" -name '*.swift'); do echo "$bin/$1.build/$(basename "$f").o"; done; }
swiftc -swift-version 6 -parse-as-library -sanitize=fuzzer,address -g -O \
    -module-name PlinthEngineFuzz -package-name "$pkg" -I "$bin/Modules" \
    $(find Sources/PlinthEngine -name '*.swift') tools/fuzz/EngineFuzzer.swift \
    $(objects PlinthKernels) $(objects PlinthKernelsGeneric) $(objects PlinthCore) \
    -o .build/fuzz/engine-fuzzer 2> >(grep -v "Cannot export local symbol" >&2)
echo "built .build/fuzz/engine-fuzzer"
