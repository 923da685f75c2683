#!/usr/bin/env bash
# ResNet50 (224 x 224, 512 calibration images, 16 eval images) converted at W8A8 by qconvert, by
# TFLite's converter (full int8) and by ONNX Runtime's quantize_static, one after the other on the same
# images, each under /usr/bin/time -v (wall time, peak RSS). docs/bench-resnet50.md has the results.
#
#   tools/bench-resnet50.sh [WORK_DIR] [--no-peers]
#
# WORK_DIR (default /tmp/r50, ~420 MB) receives the workload (tools/make_resnet50_workload.py, made
# once), the converted files and one *.time file per run. qconvert is .build/release/qconvert (build it
# first: swift build -c release). The peers need onnxruntime, onnx and tf2onnx
# (tools/requirements-bench.txt) on top of tools/requirements.txt; PEERS_PYTHON names that interpreter
# (default /tmp/peers-venv/bin/python: a venv whose main-venv.pth points at tools/.venv's site-packages).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/r50}
PEERS=yes
[ "${2:-}" = "--no-peers" ] && PEERS=no
PY=${PY:-tools/.venv/bin/python}
PEERS_PYTHON=${PEERS_PYTHON:-/tmp/peers-venv/bin/python}
QCONVERT=${QCONVERT:-.build/release/qconvert}
export TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES=

echo "CPU: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) CPUs, $(lscpu | grep -o 'avx[0-9a-z_]*' | sort -u | tr '\n' ' ')"
[ -f "$WORK/meta.json" ] || "$PY" tools/make_resnet50_workload.py "$WORK"

# Prints "NAME: S s wall, M MB peak RSS" from a /usr/bin/time -v file.
summary() {
    awk -v name="$1" -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
        /Maximum resident set size/ { kb = $2 }
        END { printf "%s: %.1f s wall, %.0f MB peak RSS\n", name, s, kb / 1024 }' "$2"
}

run() {  # NAME COMMAND...
    local name=$1; shift
    /usr/bin/time -v -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || { echo "$name failed:"; tail -5 "$WORK/$name.err"; }
    summary "$name" "$WORK/$name.time"
}

run qconvert "$QCONVERT" "$WORK/model.h5" "$WORK/resnet50.qbin" --bits 8 --calibration "$WORK/calib.h5" \
    --eval "$WORK/eval.h5" --report "$WORK/resnet50.json" --timings --quiet
run qconvert-no-noise-floor "$QCONVERT" "$WORK/model.h5" "$WORK/resnet50-nf0.qbin" --bits 8 --calibration "$WORK/calib.h5" \
    --eval "$WORK/eval.h5" --report "$WORK/resnet50-nf0.json" --noise-floor-draws 0 --timings --quiet
if [ "$PEERS" = yes ]; then
    run tflite "$PEERS_PYTHON" tools/bench_resnet50_peers.py tflite "$WORK" "$WORK/peers"
    run ort "$PEERS_PYTHON" tools/bench_resnet50_peers.py ort "$WORK" "$WORK/peers"
    cat "$WORK/tflite.out" "$WORK/ort.out"
fi
# qconvert's phases (--timings): wall time, resident and peak memory at the end of each.
grep -H "^timing:" "$WORK"/qconvert*.err || true
