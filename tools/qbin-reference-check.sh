#!/usr/bin/env bash
# Converts every fixture at the given widths (default 8 4 3), runs each .qbin in qconvert's
# simulator (`qconvert run --raw`) and in tools/qbin_reference.py (written from the spec alone),
# and prints the share of identical raw output values. Needs a release build and tools/.venv.
#   tools/qbin-reference-check.sh [bits...]   (output in ${OUT:-/tmp/qbin-reference-check};
#   CONVERT_ARGS adds convert options, PY / QC name the Python and the qconvert binary)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-tools/.venv/bin/python}
QC=${QC:-.build/release/qconvert}
OUT=${OUT:-/tmp/qbin-reference-check}
mkdir -p "$OUT"
bits=("$@"); [ ${#bits[@]} -eq 0 ] && bits=(8 4 3)
for dir in fixtures/*/; do
  f=$(basename "$dir")
  [ -f "$dir/model.h5" ] || continue
  for b in "${bits[@]}"; do
    q="$OUT/$f-w$b.qbin"
    "$QC" "$dir/model.h5" "$q" --bits "$b" --calibration "$dir/calib.h5" --eval "$dir/data.h5" \
      --quiet ${CONVERT_ARGS:-} > "$OUT/$f-w$b.convert.log" 2>&1 || { echo "$f W$b: convert failed"; continue; }
    "$QC" run "$q" --input "$dir/data.h5" --output "$OUT/$f-w$b.sim.h5" --raw > /dev/null 2>&1
    "$PY" tools/qbin_reference.py run "$q" --input "$dir/data.h5" --output "$OUT/$f-w$b.ref.h5" > /dev/null
    printf '%-18s W%sA%s  %s\n' "$f" "$b" "$b" \
      "$("$PY" tools/qbin_reference.py compare "$OUT/$f-w$b.sim.h5" "$OUT/$f-w$b.ref.h5" || true)"
  done
done
