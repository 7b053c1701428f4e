#!/usr/bin/env bash
# Builds a minimal Debian base image from Debian's packages with debootstrap and imports it into
# Docker, for machines that cannot pull images: pass it to deploy/Dockerfile as
#   --build-arg RUNTIME_IMAGE=anirec-base:bookworm
# Usage: deploy/base-image.sh [TAG]  (as root, with debootstrap and a running Docker engine;
# SUITE and MIRROR choose the Debian release and mirror). An existing TAG is kept.
set -euo pipefail
tag=${1:-anirec-base:bookworm}
suite=${SUITE:-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$tag" > /dev/null 2>&1; then
  echo "base image $tag: already built"
  exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# minbase: the required packages only (glibc, coreutils, passwd for useradd), no apt lists.
debootstrap --variant=minbase "$suite" "$root" "$mirror" > "$root.log" 2>&1 || {
  tail -20 "$root.log" >&2
  exit 1
}
rm -f "$root.log"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* \
  "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$tag" > /dev/null
echo "base image $tag: $(docker image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec) from Debian $suite"
