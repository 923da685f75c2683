#!/usr/bin/env bash
# What the measured rewrites cost in conversion time (issue 10: "no more than 1.5x"). Converts every
# fixture and zoo model with the default recipe and with the measured steps off
#   --forward-folds always --equalization off --constant-channels off --bias-absorption off
# (all other options the same: --bits 8, the fixture's calib.h5 and data.h5, plus any given here),
# each $RUNS times (default 2), and prints the least wall time and the least CPU time (user + sys, all
# threads) of each and their ratios per model and overall (sums over models). The least of several
# runs, and CPU time beside wall time, because the machine is shared and noisy.
# Usage: tools/rewrite-time.sh [convert options...]   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${QCONVERT:-.build/release/qconvert}
runs=${RUNS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
models=(resnet_bn dwsep_relu6 seq_bn_after_act concat_pool_leaky ops_zoo keras2_cnn keras20_cnn tv_cnn tv_cnn_plain
        zoo/bn_act_raw zoo/dead_bn_raw zoo/relu_logits_k2 zoo/outlier_k2 zoo/sepconv_wide zoo/mini_xception)
off=(--forward-folds always --equalization off --constant-channels off --bias-absorption off)
least() { # command... -> "wall cpu": the least wall and the least CPU (user + sys) seconds over $runs runs
  local best_wall="" best_cpu=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S" -o "$out/time" "$@" > /dev/null 2>&1 || true
    read -r wall user sys < "$out/time"
    best_wall=$(python3 -c 'import sys; t = float(sys.argv[1]); b = sys.argv[2]; print("%.2f" % (t if not b else min(t, float(b))))' "$wall" "$best_wall")
    best_cpu=$(python3 -c 'import sys; t = float(sys.argv[1]) + float(sys.argv[2]); b = sys.argv[3]; print("%.2f" % (t if not b else min(t, float(b))))' "$user" "$sys" "$best_cpu")
  done
  echo "$best_wall $best_cpu"
}
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }
add() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) + float(sys.argv[2])))' "$1" "$2"; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), options: --bits 8 $*"
echo
echo "| model | default wall (s) | steps off wall (s) | wall ratio | default CPU (s) | steps off CPU (s) | CPU ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
sw_on=0; sw_off=0; sc_on=0; sc_off=0
for m in "${models[@]}"; do
  common=("fixtures/$m/model.h5" "$out/m.qbin" --bits 8 --calibration "fixtures/$m/calib.h5" --eval "fixtures/$m/data.h5" --quiet "$@")
  read -r w_on c_on <<< "$(least "$bin" "${common[@]}")"
  read -r w_off c_off <<< "$(least "$bin" "${common[@]}" "${off[@]}")"
  echo "| $m | $w_on | $w_off | $(ratio "$w_on" "$w_off") | $c_on | $c_off | $(ratio "$c_on" "$c_off") |"
  sw_on=$(add "$sw_on" "$w_on"); sw_off=$(add "$sw_off" "$w_off"); sc_on=$(add "$sc_on" "$c_on"); sc_off=$(add "$sc_off" "$c_off")
done
echo "| **all** | $sw_on | $sw_off | $(ratio "$sw_on" "$sw_off") | $sc_on | $sc_off | $(ratio "$sc_on" "$sc_off") |"
