#!/usr/bin/env bash
# The forward-stability table of docs/experiments.md: for every fixture and zoo model at W8A8 and W4A4
# (default recipe, no TV), the report's forwardStability profile: number of blocks, geometric mean and
# maximum block amplification (the factor by which a block magnifies the relative error entering it,
# its own quantization included), the block with the maximum, and the output relative error.
# Usage: tools/stability-table.sh [models...]   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${QCONVERT:-.build/release/qconvert}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ $# -gt 0 ]; then models=("$@"); else
  models=(resnet_bn dwsep_relu6 seq_bn_after_act concat_pool_leaky ops_zoo keras2_cnn tv_cnn tv_cnn_plain
          zoo/bn_act_raw zoo/dead_bn_raw zoo/relu_logits_k2 zoo/outlier_k2 zoo/sepconv_wide zoo/mini_xception)
fi
echo "| model | bits | blocks | geo. mean amplification | max amplification (block) | output rel. error |"
echo "|---|---|---:|---:|---|---:|"
for m in "${models[@]}"; do
  for b in 8 4; do
    "$bin" "fixtures/$m/model.h5" "$out/m.qbin" --bits "$b" --calibration "fixtures/$m/calib.h5" \
        --eval "fixtures/$m/data.h5" --noise-floor-draws 0 --quiet 2> /dev/null || true
    python3 - "$out/m.report.json" "$m" "$b" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); f = r.get("forwardStability") or {"blocks": []}
blocks = f["blocks"]
worst = max(blocks, key=lambda b: b["amplification"]) if blocks else None
last = r["layers"][-1].get("outputRelativeError")
span = lambda b: b["firstLayer"] if b["firstLayer"] == b["lastLayer"] else b["firstLayer"] + " … " + b["lastLayer"]
print("| %s | W%sA%s | %d | %s | %s | %s |" % (sys.argv[2], sys.argv[3], sys.argv[3], len(blocks),
      "%.2f" % f["geometricMeanAmplification"] if blocks else "-",
      "%.2f (%s)" % (worst["amplification"], span(worst)) if worst else "-",
      "%.4f" % last if last is not None else "-"))
PY
  done
done
