#!/usr/bin/env bash
# Checks that calibration streams (issue 3): 10x more samples must use the same peak memory (within
# 10 %) and take ~10x the time. Runs `qconvert-bench calibrate` for N = 512 and N = 5120 (calib.h5's
# 512 images cycled), each in its own process so ru_maxrss is that run's own peak, `reps` times
# interleaved, and prints the medians and the ratios (docs/calibration.md, "Scaling").
#   tools/calibration-scaling.sh [scratch-path] [fixture] [threads] [reps]
# Defaults: .build-scaling, resnet_bn, 1, 3. Builds qconvert-bench in release into scratch-path first.
# Exit 1 when the peak RSS ratio exceeds 1.10 or the time per image grows by more than 25 %.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${1:-.build-scaling}"
fixture="${2:-resnet_bn}"
threads="${3:-1}"
reps="${4:-3}"

swift build -c release --scratch-path "$scratch" --product qconvert-bench >&2
bench="$scratch/release/qconvert-bench"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((rep = 1; rep <= reps; rep++)); do
    for samples in 512 5120; do
        "$bench" calibrate --fixture "$fixture" --samples "$samples" --threads "$threads" --json | tr -d '\n' >> "$results"
        echo >> "$results"
    done
done

python3 - "$results" <<'EOF'
import json, statistics, sys

runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
def median(samples, key):
    return statistics.median(r[key] for r in runs if r["samples"] == samples)

small, large = 512, 5120
first = runs[0]
print(f"calibration scaling: {first['fixture']}, batch {first['batch']}, {first['threads']} thread(s), "
      f"median of {len(runs) // 2} runs per sample count")
for n in (small, large):
    print(f"  N = {n:5d}: {median(n, 'seconds'):7.3f} s  {median(n, 'images_per_second'):7.0f} images/s  "
          f"peak RSS {median(n, 'peak_rss_bytes') / 2**20:6.1f} MiB "
          f"({median(n, 'rss_before_bytes') / 2**20:.1f} MiB before calibration)")
rss_ratio = median(large, "peak_rss_bytes") / median(small, "peak_rss_bytes")
time_ratio = median(large, "seconds") / median(small, "seconds")
per_image = time_ratio / (large / small)
print(f"  peak RSS ratio {rss_ratio:.3f} (limit 1.10)")
print(f"  time ratio {time_ratio:.2f} for {large // small}x the samples (time per image x{per_image:.2f}, limit 1.25)")
sys.exit(0 if rss_ratio <= 1.10 and per_image <= 1.25 else 1)
EOF
