#!/usr/bin/env bash
# Fuzzes the .qbin reader with libFuzzer for ${1:-60} seconds (docs/qbin-format.md, section 10).
#   tools/fuzz-qbin.sh [seconds] [extra libFuzzer flags...]
# Builds into .build-fuzz/ (outside SwiftPM's way), seeds the corpus with valid models of every
# weight width, and fails (exit != 0) on any crash, leaving the reproducer in .build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
out=.build-fuzz
mkdir -p "$out/corpus" "$out/seeds"

# The seed writer (no sanitizer), then the fuzzer: QBin's sources and the entry in one module.
swiftc -O -parse-as-library -module-name QBinSeed -I Sources/QCZlib \
    Sources/QBin/*.swift Fuzz/QBinFuzz/SeedModel.swift Fuzz/QBinSeed/main.swift -o "$out/qbin-seed"
"$out/qbin-seed" "$out/seeds"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name QBinFuzz -I Sources/QCZlib \
    Sources/QBin/*.swift Fuzz/QBinFuzz/*.swift -o "$out/qbin-fuzz" 2> >(grep -v "Cannot export local symbol" >&2)

cd "$out"
./qbin-fuzz -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 "$@" corpus seeds
