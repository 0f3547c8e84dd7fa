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
  ca-certificates  # the image's CA bundle (scripts/image.py; test image.oci)
)
if [ "${1:-}" = image ]; then
  packages+=(mmdebstrap skopeo)  # make image: the Debian root; reading/copying the OCI archive
fi

# npm packages of the node checks and of the API stand-in's CRD rules (CEL through @bufbuild/cel):
# tests/fixtures/node/package.json, exact versions in its package-lock.json; `npm ci` there when one is
# missing (needs node and npm, which are not Debian packages here).
node_modules() {
  local dir m
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/node"
  for m in @kubernetes/client-node @bufbuild/cel; do
    if [ ! -d "$dir/node_modules/$m" ]; then
      if ! command -v npm >/dev/null; then
        echo "install-deps: npm missing: the node checks and the test world's CEL rules need node >= 20 and npm" >&2
        return 1
      fi
      echo "install-deps: npm ci in $dir"
      npm ci --prefix "$dir" --no-audit --no-fund >/dev/null
      return 0
    fi
  done
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  node_modules
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
node_modules
echo "install-deps: done"
