#!/usr/bin/env bash
# The trained-TV experiment of docs/experiments.md: fixtures/tv_cnn (trained with two TVSmoothing layers,
# tools/make_tv_fixtures.py) against its twin fixtures/tv_cnn_plain, both converted at W8A8 ... W2A2,
# with the first and last weighted layers at 8 bits (the default) and at the same width as the rest.
# Cells: top-1 agreement (%) / quantized accuracy (%) / output SQNR (dB), noise floor mean of 4 draws.
# Usage: tools/tv-pair.sh   (after swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${QCONVERT:-.build/release/qconvert}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| first/last | bits | tv_cnn (floor) | tv_cnn | tv_cnn_plain (floor) | tv_cnn_plain |"
echo "|---|---|---:|---:|---:|---:|"
for fl in 8 same; do
  for b in 8 4 3 2; do
    [ "$fl" = same ] && [ "$b" = 8 ] && continue
    row="| $fl | W${b}A${b} |"
    for m in tv_cnn tv_cnn_plain; do
      "$bin" "fixtures/$m/model.h5" "$out/m.qbin" --bits "$b" --first-last-bits "$fl" --calibration "fixtures/$m/calib.h5" \
          --eval "fixtures/$m/data.h5" --noise-floor-draws 4 --quiet 2> /dev/null || true
      row="$row $(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["evaluation"]; print("%.2f | %.2f / %.2f / %.1f" % (100*e["noiseFloor"]["top1AgreementMean"], 100*e["top1Agreement"], 100*e["quantizedAccuracy"], e["outputSQNR"]))' "$out/m.report.json") |"
    done
    echo "$row"
  done
done
