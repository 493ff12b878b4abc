#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs, from Debian's packages, whatever the targets need and is missing.
# Usage: harness/deps.sh [--check]   (--check only reports, installs nothing)
. "$(dirname "$0")/lib.sh"

# "probe package": probe is a command on PATH, or a path that must exist.
NEEDS=(
	"aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu"
	"/usr/aarch64-linux-gnu/lib/libc.a libc6-dev-arm64-cross"
	"spatch coccinelle"
	"flex flex"
	"bison bison"
	"bc bc"
	"/usr/include/openssl/ssl.h libssl-dev"
	"/usr/include/libelf.h libelf-dev"
	"python3 python3"
	"perl perl"
	"git git"
	"make make"
	"gcc gcc"
	"xz xz-utils"
	"cpio cpio"
	"rsync rsync"
	"sphinx-build python3-sphinx"
	"timeout coreutils"
	# harness/qemu.sh: the project's qemu-system-aarch64, built from source
	"dpkg-source dpkg-dev"
	"/usr/include/glib-2.0/glib.h libglib2.0-dev"
	"/usr/include/pixman-1/pixman.h libpixman-1-dev"
	"/usr/include/libfdt.h libfdt-dev"
	"ninja ninja-build"
	"pkg-config pkg-config"
	"/usr/share/doc/python3-venv python3-venv"
	"flock util-linux"
	"dpkg-deb dpkg"
)
# A base from the host's suite is installed; one from another suite
# (BASE_SUITE) is downloaded and extracted by fetch_base, never installed.
[ -n "$BASE_SUITE" ] || NEEDS+=("$BASE_TARBALL $BASE_PACKAGE")

# Every series of the repository needs its base: the product's, and that of
# a series in a folder of its own (SERIES=dir) while a move to a new base is
# under way.
fetch_other_bases() {
	local d
	[ -z "$SERIES" ] || return 0
	for d in "$TOP"/*/BASE; do
		[ -f "$d" ] || continue
		# qemu/BASE pins harness/qemu.sh's QEMU source, not a kernel series.
		[ "$d" != "$TOP/qemu/BASE" ] || continue
		SERIES=$(basename "$(dirname "$d")") "$0" "$@" || return 1
	done
}

done_base() {
	if [ -n "$BASE_SUITE" ]; then
		fetch_base
	fi
	if [ -n "${SPARSE_VERSION:-}" ]; then
		"$TOP/harness/sparse.sh" >/dev/null
	fi
	check_base
	fetch_other_bases "$@"
	# The project's QEMU (qemu/), which the test machine needs: built
	# once into its cache (about 3 minutes cold), then only looked up.
	if [ "${1:-}" != --check ]; then
		"$TOP/harness/qemu.sh" --path >/dev/null
	fi
}

have() {
	case "$1" in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

missing=()
for n in "${NEEDS[@]}"; do
	read -r probe pkg <<<"$n"
	have "$probe" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	done_base "$@"
	exit 0
fi

if [ "${1:-}" = --check ] || [ "$(id -u)" != 0 ]; then
	for p in "${missing[@]}"; do
		printf 'missing: %s: install it with: apt-get install %s\n' "$p" "$p" >&2
	done
	exit 1
fi

say "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/iommu-aux-apt.XXXXXX)
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
	apt-get update -q >>"$log" 2>&1 || true
	apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
		die "apt-get install ${missing[*]} failed; see $log"
fi
rm -f "$log"
for n in "${NEEDS[@]}"; do
	read -r probe pkg <<<"$n"
	have "$probe" || die "missing: $pkg: still not there after apt-get install $pkg"
done
done_base "$@"
