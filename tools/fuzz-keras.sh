#!/usr/bin/env bash
# Fuzzes the Keras importer (model_config JSON against real weights, and whole .h5 files) with
# libFuzzer for ${1:-60} seconds (docs/robustness.md, "Fuzzing").
#   tools/fuzz-keras.sh [seconds] [extra libFuzzer flags...]
#   QC_FUZZ_MODE=config|file tools/fuzz-keras.sh ...   only one kind of input
#   QC_FUZZ_TARGET=calibration tools/fuzz-keras.sh ...  calibration / evaluation files instead
# Builds QCore and HDF5 as modules and KerasImport with the entry as the fuzzed module, all with
# coverage and AddressSanitizer, into .build-fuzz/keras/; seeds the corpus with every fixture's
# model_config (mode byte 0) and the smallest fixture file (mode byte 1). Exit != 0 on a crash,
# leaving the reproducer in .build-fuzz/keras/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
root="$(pwd)"
out=.build-fuzz/keras
mkdir -p "$out/corpus" "$out/seeds"
hdf5_cflags=$(pkg-config --cflags hdf5 2>/dev/null || true)
hdf5_libs=$(pkg-config --libs hdf5 2>/dev/null || echo "-lhdf5")
# KerasImport reads .keras archives with ZIPFoundation (the SwiftPM checkout; its CZLib module is zlib).
zip_sources=.build/checkouts/ZIPFoundation/Sources
[ -d "$zip_sources/ZIPFoundation" ] || swift package resolve >/dev/null
flags=(-O -sanitize=fuzzer,address -parse-as-library -I "$out" -I Sources/CHDF5 -I "$zip_sources/CZLib")
for f in $hdf5_cflags; do flags+=(-Xcc "$f"); done

build_module() {  # name sources...
    local name=$1; shift
    swiftc "${flags[@]}" -emit-module -emit-module-path "$out/$name.swiftmodule" -module-name "$name" \
        -emit-object -wmo "$@" -o "$out/$name.o" 2> >(grep -v "Cannot export local symbol" >&2)
}
build_module QCore Sources/QCore/*.swift
build_module HDF5 Sources/HDF5/*.swift
# Leaks inside libhdf5's own error paths (2 KB on a damaged calibration file) are not ours to fix and
# would stop the run; anything leaked from our code still fails it.
printf 'leak:libhdf5\n' > "$out/lsan.supp"
export LSAN_OPTIONS="suppressions=$root/$out/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# A damaged header can make libhdf5 itself ask malloc for hundreds of GB (378 GB and 6.8 EB were seen);
# ASan aborts on such a request by default, while the real binary gets NULL and libhdf5 reports an error
# (measured: `qconvert inspect` on those inputs exits 2 at 34 MB RSS). Let ASan return NULL too, so the
# run goes on; real overflows and use-after-free still stop it.
# libhdf5 itself is not instrumented: ASan sees its bugs only where it calls an intercepted libc function.
# libhdf5 1.10 over-reads a damaged attribute name with strdup in H5O__attr_decode (CVE-2025-2310,
# fixed upstream in 1.14.6, not in Debian's 1.10; reproducer fixtures/hostile/libhdf5-attribute-name-
# overread.h5, exit 2 in qconvert). Suppress exactly that report (the strdup interceptor called from
# H5MM_strdup); every other libhdf5 report, and every memory error in our own code, still stops the run.
printf 'interceptor_via_fun:H5MM_strdup\n' > "$out/asan.supp"
# The CLI reads models under an address-space limit of the memory budget (IsolatedRead); the in-process
# analog here is a 1 GB cap on any single allocation (returning NULL, as a limited process would get):
# a 70 KB file asked libhdf5 for 2.9 GB of strings (fixtures/hostile/libhdf5-vlen-string-bomb.h5).
export ASAN_OPTIONS="allocator_may_return_null=1:max_allocation_size_mb=1024:suppressions=$root/$out/asan.supp${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
if [ "${QC_FUZZ_TARGET:-keras}" = calibration ]; then
    swiftc "${flags[@]}" -module-name CalibrationFuzz Fuzz/CalibrationFuzz/FuzzEntry.swift "$out/QCore.o" "$out/HDF5.o" \
        $hdf5_libs -o "$out/calibration-fuzz" 2> >(grep -v "Cannot export local symbol" >&2)
    mkdir -p "$out/calibration-corpus" "$out/calibration-seeds"
    cp fixtures/resnet_bn/calib.h5 fixtures/resnet_bn/data.h5 "$out/calibration-seeds/"
    cd "$out"
    exec ./calibration-fuzz -max_total_time="$seconds" -max_len=700000 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$@" calibration-corpus calibration-seeds
fi
build_module ZIPFoundation -Xcc -D_GNU_SOURCE=1 "$zip_sources"/ZIPFoundation/*.swift
swiftc "${flags[@]}" -module-name KerasFuzz Sources/KerasImport/*.swift Fuzz/KerasFuzz/FuzzEntry.swift \
    "$out/QCore.o" "$out/HDF5.o" "$out/ZIPFoundation.o" $hdf5_libs -lz -o "$out/keras-fuzz" 2> >(grep -v "Cannot export local symbol" >&2)

# Seeds: "\0" + model_config of every fixture, "\1" + the smallest fixture file (written by the
# fuzzer binary itself, through LLVMFuzzerInitialize, so no Python or h5dump is needed).
QC_FUZZ_WRITE_SEEDS="$out/seeds" "$out/keras-fuzz" fixtures/*/model.h5

cd "$out"
QC_FUZZ_WEIGHTS="$root/fixtures/resnet_bn/model.h5" ./keras-fuzz -max_total_time="$seconds" -max_len=600000 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$@" corpus seeds
