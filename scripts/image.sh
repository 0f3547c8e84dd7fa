#!/usr/bin/env bash
# `make image` (issue 19 part 1): the couchestor OCI image, built from Debian packages without a container engine
# or a registry:
#   1. mmdebstrap --variant=extract: the Debian 12 packages of the binary's runtime libraries and of the tools
#      `couchestor discover` runs (nvme-cli, smartmontools), with their dependencies, unpacked into a staging root
#      (never configured: no maintainer script runs, no shell is needed); a hook records each package's control
#      fields and file list (what dpkg would have in /var/lib/dpkg);
#   2. scripts/image.py: from that root, only the files the binary and the tools need (ELF closure), a non-root
#      user 65532, the CA bundle; one layer, an OCI layout and an archive of it, reproducible.
# Usage: scripts/image.sh [OUT_DIR]     (default build/image; as root, or with unprivileged user namespaces)
# Environment:
#   BINARY            the couchestor binary (default build/release/couchestor, `make build`)
#   SOURCE_DATE_EPOCH the time every file and the image carry (default: the last commit's time, git log)
#   IMAGE_SNAPSHOT    a snapshot.debian.org time (e.g. 20250520T000000Z): packages as they were then, so the
#                     image is the same bit for bit whenever it is built; default: the current Debian 12 archive
#   IMAGE_MIRROR      Debian mirror (default http://deb.debian.org/debian; security from debian-security)
# Prints the image digest, its size, and how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
out=${1:-build/image}
binary=${BINARY:-build/release/couchestor}
[ -x "$binary" ] || { echo "image: no binary at $binary (run make, or set BINARY)" >&2; exit 1; }
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || true)
  [ -n "$SOURCE_DATE_EPOCH" ] || { echo "image: set SOURCE_DATE_EPOCH (not a git checkout)" >&2; exit 1; }
fi
export SOURCE_DATE_EPOCH
version=$(sed -nE 's/^project\(couchestor VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)

# The packages: those owning the libraries the binary links (read with ldd and dpkg -S on this machine, so the
# list follows the build), the discover tools, and the CA certificates.
mapfile -t libs < <(ldd "$binary" | awk '$3 ~ /^\// {print $3}')
packages=$( (for l in "${libs[@]}"; do dpkg -S "$(readlink -f "$l")" 2>/dev/null || dpkg -S "$l"; done) |
  cut -d: -f1 | sort -u | tr '\n' ',')
packages="${packages}libc6,nvme-cli,smartmontools,ca-certificates"

mirror=${IMAGE_MIRROR:-http://deb.debian.org/debian}
security=${mirror%/debian}/debian-security
if [ -n "${IMAGE_SNAPSHOT:-}" ]; then
  mirror=http://snapshot.debian.org/archive/debian/$IMAGE_SNAPSHOT
  security=http://snapshot.debian.org/archive/debian-security/$IMAGE_SNAPSHOT
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/couchestor-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
meta=$work/dpkg
mkdir -p "$meta/info"
mode=unshare
[ "$(id -u)" -eq 0 ] && mode=root
# The hook runs on this machine after the extraction, while the downloaded .debs are still in the staging root.
hook='for deb in "$1"/var/cache/apt/archives/*.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  { dpkg-deb -f "$deb"; echo; } >> '"$meta"'/status
  dpkg-deb -c "$deb" | awk "{print \$6}" | sed -e "s,^\./,/," -e "s,/\$,," > '"$meta"'/info/$pkg.list
done'
echo "image: mmdebstrap bookworm ($packages)"
mmdebstrap --quiet --variant=extract --mode="$mode" --format=directory \
  --include="$packages" --extract-hook="$hook" \
  bookworm "$work/root" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main"

mkdir -p "$out"
python3 scripts/image.py --binary "$binary" --source-root "$work/root" --dpkg-admin "$meta" --out "$out" \
  --version "$version" --created-by "scripts/image.sh: mmdebstrap --variant=extract bookworm $packages"
echo "image: built in $(($(date +%s) - start)) s"
