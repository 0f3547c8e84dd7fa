#!/usr/bin/env bash
# Installs the Debian packages CoucheStor needs to build and test; idempotent.
# Checks each package with dpkg first and runs one `apt-get update` + one
# `apt-get install -y` only for the ones that are missing. Works as root with
# no terminal (CI). Prints what it installs, or nothing when all are present.
set -euo pipefail

# Build toolchain and libraries of libcouchestor.
packages=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev llvm
  clang-format clang-tidy  # the house rules (scripts/format.sh, scripts/tidy.sh)
  libisal-dev liblz4-dev libcurl4-openssl-dev libjansson-dev libyajl-dev
  libyaml-dev libmicrohttpd-dev liburing-dev libcriterion-dev
  python3
  nvme-cli smartmontools  # hardware discovery
  prometheus  # test world: real Prometheus scraping the Mayastor simulator
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo $0) to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
