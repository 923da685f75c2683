#!/usr/bin/env bash
# The noise-floor table of docs/quantization.md: per fixture and bit width, the quantized model's top-1
# agreement next to the float model's agreement with itself under the grids' rounding noise alone
# (mean [min ... max] over 32 draws; docs/report.md 3.5), on each fixture's 300 held-out images.
# Usage: tools/noise-floor-table.sh [convert options...]   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/qconvert
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
widths=(8 6 5 4 3)
echo "| fixture |$(for b in "${widths[@]}"; do printf ' W%sA%s |' "$b" "$b"; done)"
echo "|---|$(printf -- '---:|%.0s' "${widths[@]}")"
for f in resnet_bn dwsep_relu6 seq_bn_after_act concat_pool_leaky ops_zoo keras2_cnn; do
  row="| $f |"
  for b in "${widths[@]}"; do
    "$bin" "fixtures/$f/model.h5" "$out/m.qbin" --bits "$b" --calibration "fixtures/$f/calib.h5" \
        --eval "fixtures/$f/data.h5" --noise-floor-draws 32 --quiet "$@"
    row="$row $(python3 - "$out/m.report.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["evaluation"]
n = e["noiseFloor"]
print("%.2f / %.2f [%.2f ... %.2f] |" % (100 * e["top1Agreement"], 100 * n["top1AgreementMean"],
                                        100 * n["top1AgreementMin"], 100 * n["top1AgreementMax"]))
PY
)"
  done
  echo "$row"
done
