#!/usr/bin/env bash
# Installs the system packages qconvert builds against (Debian/Ubuntu). Safe to run repeatedly:
# it installs only what is missing.
set -euo pipefail
needed=()
for pkg in libhdf5-dev zlib1g-dev pkg-config; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${needed[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: no 'swift' on PATH; install Swift 6.x (https://swift.org/install)" >&2; exit 1; }
