#!/usr/bin/env bash
# Installs every Debian 12 package Medulla needs to build, test and run its demo. Idempotent:
# when everything is present it does nothing (no apt-get update). Run as root.
set -euo pipefail

packages=(
  # build
  cmake ninja-build ccache g++ git python3 clang-format
  # compiler: LLVM/MLIR 19 + lit/FileCheck
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
  # library: LibTorch (CPU), fast BLAS for it, ITK
  libtorch-dev libopenblas0-pthread libinsighttoolkit5-dev
  # distributed: Gloo headers that torch's ProcessGroupGloo.hpp includes
  libgloo-dev
  # tests, benchmarks, CLI, JSON, formatting
  libgtest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  # real images used by tests and the demo
  mricron-data insighttoolkit5-examples python3-pydicom python3-nibabel
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages and not root; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# LibTorch calls the system BLAS; OpenBLAS (pthread) is several times faster than the reference one.
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
if [ -e "$openblas" ] && [ "$(id -u)" -eq 0 ]; then
  update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas" >/dev/null 2>&1 || true
fi
echo "install-deps: all packages present"
