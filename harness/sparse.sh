#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A sparse that can check the series' base. Linux 7.3 uses __typeof_unqual__,
# which Debian 12's sparse 0.6.4 cannot parse, so the kernel turns C=2 off
# (scripts/checker-valid.sh). A series whose BASE names SPARSE_VERSION gets
# that version built from Debian's source package (fetched with the private
# apt, .dsc pinned by SPARSE_DSC_SHA256) into a cache outside the clone.
# Usage: harness/sparse.sh   build if missing; print the binary's path
#        (prints "sparse", the host's, when BASE names no version)
. "$(dirname "$0")/lib.sh"

if [ -z "${SPARSE_VERSION:-}" ]; then
	echo sparse
	exit 0
fi
cache=${SPARSE_CACHE:-/var/cache/iommu-aux/sparse}/$SPARSE_VERSION
if [ -x "$cache/sparse" ]; then
	echo "$cache/sparse"
	exit 0
fi

dl=$BUILD_TOP/sparse-dl
rm -rf "$dl" && mkdir -p "$dl"
papt_update
if ! (cd "$dl" && papt source --download-only "sparse=$SPARSE_VERSION" >download.log 2>&1); then
	served=$(papt_cache showsrc sparse 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1)
	die "the archive does not serve the sparse source $SPARSE_VERSION; it serves: ${served:-none}"
fi
dsc=$(ls "$dl"/*.dsc)
sum=$(sha256sum "$dsc" | cut -d' ' -f1)
[ "$sum" = "$SPARSE_DSC_SHA256" ] || die "$(basename "$dsc") has sha256 $sum, BASE pins $SPARSE_DSC_SHA256"
(cd "$dl" && dpkg-source -q -x "$dsc" src >unpack.log 2>&1) ||
	die "dpkg-source -x $(basename "$dsc") failed; see $dl/unpack.log"
# Debian's Makefile names its compiler (gcc-16); Debian 12 has gcc.
make -s -C "$dl/src" -j"$JOBS" CC=gcc sparse >"$dl/build.log" 2>&1 ||
	die "building sparse $SPARSE_VERSION failed; see $dl/build.log"
# The kernel's own test of a checker, when the tree is there already.
if [ -x "$TREE/scripts/checker-valid.sh" ]; then
	[ "$("$TREE/scripts/checker-valid.sh" "$dl/src/sparse")" = 1 ] ||
		die "sparse $SPARSE_VERSION built, but cannot check $BASE_PACKAGE"
fi
mkdir -p "$cache"
cp "$dl/src/sparse" "$cache/sparse.tmp" && mv "$cache/sparse.tmp" "$cache/sparse"
rm -rf "$dl"
say "sparse: $SPARSE_VERSION built into $cache" >&2
echo "$cache/sparse"
