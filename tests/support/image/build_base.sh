#!/usr/bin/env bash
# Build a local stand-in for the official python slim image as a root filesystem tarball,
# for machines that cannot pull base images: Debian bookworm (minbase) with python3,
# venv, pip, git and CA certificates.
#
#   bash tests/image_support/build_base.sh OUT.tar
#
# Where this machine's pip reaches the package index through an intercepting proxy, the
# container needs the same CA bundle: the bundle pip uses here (PIP_CERT,
# REQUESTS_CA_BUNDLE, SSL_CERT_FILE or pip's `global.cert`) replaces the image's own, and
# /etc/pip.conf points pip at it, /etc/uv/uv.toml has uv use the system's store. Needs
# root and debootstrap.
set -euo pipefail
out=${1:?usage: build_base.sh OUT.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${DEBIAN_SUITE:-bookworm}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,git,ca-certificates \
    "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
}

bundle=${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-}}}
if [ -z "$bundle" ]; then
    bundle=$(python3 -m pip config get global.cert 2>/dev/null || true)
fi
if [ -n "$bundle" ] && [ -f "$bundle" ]; then
    cp "$bundle" "$root/etc/ssl/certs/ca-certificates.crt"
fi
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
# uv ships its own roots unless told to use the system's store.
mkdir -p "$root/etc/uv"
printf 'native-tls = true\n' >"$root/etc/uv/uv.toml"

# Keep the tarball small: no apt lists, caches or docs.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*

mkdir -p "$(dirname "$out")"
tar --numeric-owner -C "$root" -cf "$out.$$.tmp" .
mv "$out.$$.tmp" "$out"     # whole or not at all, also when two test runs build at once
