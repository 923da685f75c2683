#!/usr/bin/env bash
# The TV smoothing experiments of docs/experiments.md, on every fixture and zoo model:
#   1. top-1 agreement with the float model, quantized accuracy (%) and output SQNR (dB) at W8A8, W4A4, W3A3 and W2A2 with
#      --tv-smoothing off, auto and two fixed relative gammas (0.01, 0.05), beside the noise floor of
#      `off` (mean of 4 draws); auto's cell says how many points it smoothed (e.g. "2/4");
#   2. outlier statistics of the insertion points before -> after smoothing (W4A4, gamma 0.05): mean
#      excess kurtosis, mean max/p99.9 of |x|, mean share clipped by the 4-bit clip range.
# Evaluation: each model's data.h5 (300 held-out test images). First/last layers at 8 bits (the default).
# Usage: tools/tv-table.sh [models...]   (after swift build -c release; ~25 min on a quiet 2-core machine)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${QCONVERT:-.build/release/qconvert}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ $# -gt 0 ]; then models=("$@"); else
  models=(resnet_bn dwsep_relu6 seq_bn_after_act concat_pool_leaky ops_zoo keras2_cnn keras20_cnn tv_cnn tv_cnn_plain
          zoo/bn_act_raw zoo/dead_bn_raw zoo/relu_logits_k2 zoo/outlier_k2 zoo/sepconv_wide zoo/mini_xception)
fi
convert() { # model bits mode floor-draws
  "$bin" "fixtures/$1/model.h5" "$out/m.qbin" --bits "$2" --calibration "fixtures/$1/calib.h5" \
      --eval "fixtures/$1/data.h5" --noise-floor-draws "$4" --tv-smoothing "$3" --quiet 2> "$out/err" || true
}
cell() { # report.json -> "agreement / accuracy / SQNR[ (chosen/points)]"
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); e = r["evaluation"]; tv = r.get("tvSmoothing")
acc = e.get("quantizedAccuracy")
text = "%.2f / %s / %.1f" % (100 * e["top1Agreement"], "%.2f" % (100 * acc) if acc is not None else "-", e["outputSQNR"])
if tv and tv["mode"] == "auto":
    text += " (%d/%d)" % (sum(1 for p in tv["points"] if p.get("gamma") is not None), len(tv["points"]))
print(text)
PY
}
echo "Top-1 agreement (%) / quantized accuracy (%) / output SQNR (dB); float accuracy in the model column"
echo
echo "| model | bits | floor | off | auto | 0.01 | 0.05 |"
echo "|---|---|---:|---:|---:|---:|---:|"
for m in "${models[@]}"; do
  for b in 8 4 3 2; do
    row="| $m | W${b}A${b} |"
    convert "$m" "$b" off 4
    floor=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["evaluation"]; print("%.2f" % (100*e["noiseFloor"]["top1AgreementMean"]), "%.2f" % (100*e["floatAccuracy"]))' "$out/m.report.json")
    [ "$b" = 8 ] && row="| $m (float ${floor#* }) | W${b}A${b} |"
    row="$row ${floor% *} | $(cell "$out/m.report.json") |"
    for mode in auto 0.01 0.05; do
      convert "$m" "$b" "$mode" 0
      row="$row $(cell "$out/m.report.json") |"
    done
    echo "$row"
  done
done
echo
echo "Insertion points before -> after TV (W4A4, gamma 0.05): means over the points"
echo
echo "| model | points | excess kurtosis | max / p99.9 of abs(x) | clipped at 4 bits (%) |"
echo "|---|---:|---|---|---|"
for m in "${models[@]}"; do
  convert "$m" 4 0.05 0
  python3 - "$out/m.report.json" "$m" <<'PY'
import json, sys
pts = json.load(open(sys.argv[1]))["tvSmoothing"]["points"]
def mean(f, key):
    v = [f(p[key]) for p in pts if p.get(key)]
    return sum(v) / len(v) if v else float("nan")
ratio = lambda s: max(abs(s["min"]), abs(s["max"])) / s["absP999"] if s["absP999"] > 0 else float("nan")
print("| %s | %d | %.1f -> %.1f | %.2f -> %.2f | %.3f -> %.3f |" % (sys.argv[2], len(pts),
      mean(lambda s: s["excessKurtosis"], "before"), mean(lambda s: s["excessKurtosis"], "after"),
      mean(ratio, "before"), mean(ratio, "after"),
      100 * mean(lambda s: s["clippedShare"], "before"), 100 * mean(lambda s: s["clippedShare"], "after")))
PY
done
