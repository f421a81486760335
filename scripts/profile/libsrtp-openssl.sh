#!/usr/bin/env bash
# Builds libsrtp2 2.5.0, the version Debian bookworm ships, from Debian's own
# source tarball (checksum from its .dsc), over OpenSSL instead of NSS, into
# DIR/lib/libsrtp2.so.1: the same library and ABI the worker links, with the
# other crypto backend. A worker started with LD_LIBRARY_PATH=DIR/lib uses it
# (docs/engine.md). Needs curl, make, a C compiler and libssl-dev.
#   bash scripts/profile/libsrtp-openssl.sh /tmp/libsrtp-openssl
set -euo pipefail
dir=${1:?usage: libsrtp-openssl.sh DIR}
tarball=libsrtp2_2.5.0.orig.tar.gz
sha256=8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsS -m 60 -o "$work/$tarball" "http://deb.debian.org/debian/pool/main/libs/libsrtp2/$tarball"
echo "$sha256  $work/$tarball" | sha256sum -c --quiet
tar -xzf "$work/$tarball" -C "$work"
cd "$work/libsrtp-2.5.0"
./configure --enable-openssl --prefix="$(realpath -m "$dir")" CFLAGS='-O2 -fPIC' >/dev/null
make -j"$(nproc)" shared_library >/dev/null
make install >/dev/null
echo "libsrtp2 over OpenSSL: $(realpath "$dir")/lib/libsrtp2.so.1"
