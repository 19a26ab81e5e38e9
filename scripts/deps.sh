#!/usr/bin/env bash
# Installs the Debian 12 packages ipnfs needs, but only those that are missing.
# Usage: scripts/deps.sh [build|test]   (default: build)
#   build: toolchain and libraries for `bazel build`
#   test:  build + the tools the tests use (xattrs, mount, processes, networking)
# Fast no-op (no apt at all) when everything is already installed.
set -euo pipefail

group="${1:-build}"

build_pkgs=(
  bazel-bootstrap bazel-rules-java g++ pkg-config
  libfuse3-dev fuse3 liburing-dev libabsl-dev libgtest-dev libgmock-dev libvdeplug-dev
)
test_pkgs=(
  "${build_pkgs[@]}"
  attr util-linux procps python3 psmisc iproute2 tcpdump iputils-ping tshark iperf3
  qemu-system-x86 ipxe-qemu dnsmasq-base vde2 vdeplug vdens
  clang clang-format libclang-rt-14-dev
)

case "$group" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test)  pkgs=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${pkgs[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "deps.sh: installing missing packages: ${missing[*]}" >&2

if ((EUID == 0)); then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "deps.sh: need root to install: ${missing[*]} (run as root, or install sudo)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
