#!/usr/bin/env bash
# Renders a qconvert fidelity report page (REPORT.html, from `qconvert convert --report-html` or
# `qconvert validate`) to a PNG with headless Chromium, to look at a report without a desktop or
# to check the page's design (docs/report.md, "Screenshot").
#
#   tools/screenshot-report.sh REPORT.html OUT.png [WIDTHxHEIGHT] [SCALE]
#
# Needs Debian's `chromium` (apt-get install chromium). The page has no scripts and no network
# references, so nothing is fetched. Default window 1200x2400 CSS pixels: the PNG is that size, with
# the page background below short pages and the top of long pages (raise HEIGHT for those). SCALE
# (default 1) is the device pixel ratio: 0.75 gives a 900-pixel-wide PNG of the same layout.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 4 ]]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT] [SCALE]" >&2
    exit 2
fi
report=$1
out=$2
size=${3:-1200x2400}
scale=${4:-1}
[[ $scale =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "scale must be a number like 0.75, not '$scale'" >&2; exit 2; }
[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "size must look like 1200x2400, not '$size'" >&2; exit 2; }
[[ -f $report ]] || { echo "no such report page: $report" >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [[ -z $browser ]]; then
    echo "chromium not found; install it with: apt-get install chromium" >&2
    exit 1
fi

page="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
out_abs="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
# A private profile directory keeps runs independent of each other and of any user profile.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

"$browser" --headless --disable-gpu --no-sandbox --hide-scrollbars --user-data-dir="$profile" \
    --window-size="${size/x/,}" --force-device-scale-factor="$scale" --screenshot="$out_abs" "$page" >/dev/null 2>"$profile/chromium.log" || {
    cat "$profile/chromium.log" >&2
    exit 1
}
[[ -s $out_abs ]] || { echo "chromium wrote no screenshot; its log:" >&2; cat "$profile/chromium.log" >&2; exit 1; }

echo "$out_abs"
