#!/usr/bin/env bash
# The accuracy table of docs/quantization.md: top-1 agreement (and quantized accuracy) of every fixture
# at W8A8 ... W2A2 with the default recipe, on each fixture's 300 held-out images. Extra arguments are
# passed to every conversion (e.g. --weight-rounding nearest, --calibration-method kl).
# Usage: tools/accuracy-table.sh [convert options...]   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/qconvert
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| fixture | float acc | W8A8 | W6A6 | W5A5 | W4A4 | W3A3 | W2A2 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for f in resnet_bn dwsep_relu6 seq_bn_after_act concat_pool_leaky ops_zoo keras2_cnn keras20_cnn; do
  row="| $f"
  first=1
  for b in 8 6 5 4 3 2; do
    "$bin" "fixtures/$f/model.h5" "$out/m.qbin" --bits "$b" --calibration "fixtures/$f/calib.h5" \
        --eval "fixtures/$f/data.h5" --quiet --json "$@" > "$out/s.json"
    cells=$(python3 - "$out/m.report.json" "$first" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["evaluation"]
pct = lambda x: "%.2f" % (100 * x)
cell = pct(e["top1Agreement"]) + (" (%s)" % pct(e["quantizedAccuracy"]) if e.get("quantizedAccuracy") is not None else "")
print(("| %s " % pct(e["floatAccuracy"]) if sys.argv[2] == "1" and e.get("floatAccuracy") is not None else "") + "| " + cell)
PY
)
    row="$row $cells"
    first=0
  done
  echo "$row |"
done
