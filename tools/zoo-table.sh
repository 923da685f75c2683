#!/usr/bin/env bash
# The zoo table of docs/quantization.md ("Real models: the zoo"): top-1 agreement (%) of every fixture
# and zoo model (fixtures/zoo, tools/make_zoo.py) at W8A8 and W4A4 with each measured recipe step on and
# off, beside the noise floor (mean over 8 draws) of the default recipe. Columns:
#   default          every step on (forward folds measured, constant channels to bias, equalization and bias
#                    absorption measured)
#   no CLE           --equalization off
#   no absorption    --bias-absorption off
#   algebraic folds  --forward-folds always --constant-channels off (no measurement, dead channels kept)
#   old              all four off: the recipe before issue 10
# A trailing "w" marks a conversion that printed a warning:.
# Usage: tools/zoo-table.sh [convert options...]   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${QCONVERT:-.build/release/qconvert}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
models=(resnet_bn dwsep_relu6 seq_bn_after_act concat_pool_leaky ops_zoo keras2_cnn keras20_cnn tv_cnn tv_cnn_plain
        zoo/bn_act_raw zoo/dead_bn_raw zoo/relu_logits_k2 zoo/outlier_k2 zoo/sepconv_wide zoo/mini_xception)
variants=("" "--equalization off" "--bias-absorption off" "--forward-folds always --constant-channels off"
          "--forward-folds always --constant-channels off --equalization off --bias-absorption off")
cell() { # report.json stderr -> "agreement[w]"
  python3 - "$1" "$2" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["evaluation"]
w = "w" if "warning:" in open(sys.argv[2]).read() else ""
print("%.2f%s" % (100 * e["top1Agreement"], w))
PY
}
echo "| model | bits | floor | default | no CLE | no absorption | algebraic folds | old |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for m in "${models[@]}"; do
  for b in 8 4; do
    row="| $m | W${b}A${b} |"
    first=1
    for v in "${variants[@]}"; do
      # shellcheck disable=SC2086
      "$bin" "fixtures/$m/model.h5" "$out/m.qbin" --bits "$b" --calibration "fixtures/$m/calib.h5" \
          --eval "fixtures/$m/data.h5" --noise-floor-draws $([ $first = 1 ] && echo 8 || echo 0) --quiet $v "$@" 2> "$out/err" || true
      if [ $first = 1 ]; then
        row="$row $(python3 -c 'import json,sys; print("%.2f" % (100 * json.load(open(sys.argv[1]))["evaluation"]["noiseFloor"]["top1AgreementMean"]))' "$out/m.report.json") |"
        first=0
      fi
      row="$row $(cell "$out/m.report.json" "$out/err") |"
    done
    echo "$row"
  done
done
