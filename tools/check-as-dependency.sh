#!/usr/bin/env bash
# Builds a scratch package that depends on qconvert the way users will: by git URL and version (a
# tagged local clone through a file:// URL, where SwiftPM applies its rules for dependencies, e.g. no
# unsafeFlags), then runs it once. Only the library product QConvertKit and what it needs are built
# (debug: the quickest to compile), so this costs one more compile of the library, not of the tests.
# Usage: tools/check-as-dependency.sh [commit]   (default HEAD; run from anywhere in the repository)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="${1:-HEAD}"
work="$(mktemp -d "${TMPDIR:-/tmp}/qconvert-dependency.XXXXXX")"
trap 'rm -rf "$work"' EXIT

git clone --quiet --no-hardlinks "$repo" "$work/qconvert"
git -C "$work/qconvert" checkout --quiet --detach "$(git -C "$repo" rev-parse "$commit")"
git -C "$work/qconvert" tag -f 0.0.1 >/dev/null

mkdir -p "$work/user/Sources/user"
cat > "$work/user/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "user",
    dependencies: [.package(url: "file://$work/qconvert", exact: "0.0.1")],
    targets: [.executableTarget(name: "user", dependencies: [.product(name: "QConvertKit", package: "qconvert")])]
)
SWIFT
cat > "$work/user/Sources/user/main.swift" <<'SWIFT'
import QConvertKit

// Runs the dispatched kernels' detection through the public API: proves the package links and loads.
print("qconvert as a dependency: \(KernelISA.summary)")
SWIFT

cd "$work/user"
swift build --product user > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; echo "check-as-dependency: the scratch package did not build" >&2; exit 1; }
"$(swift build --product user --show-bin-path)/user"
echo "check-as-dependency: ok (qconvert $(git -C "$repo" rev-parse --short "$commit") as version 0.0.1 via file://)"
