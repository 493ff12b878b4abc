# SPDX-License-Identifier: GPL-2.0
# Shared settings for the harness scripts. Sourced, not run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# SERIES picks the series: empty for the product (BASE, patches/), or a folder
# of the repository holding its own BASE and patches/ (the way a move to a new
# base lands before it replaces patches/),
# built under build/<folder>/ so both trees and their builds live side by side.
SERIES=${SERIES:-}
if [ -n "$SERIES" ]; then
	SERIES_DIR=$TOP/$SERIES
	[ -f "$SERIES_DIR/BASE" ] || { printf 'error: SERIES=%s: no %s/BASE\n' "$SERIES" "$SERIES_DIR" >&2; exit 1; }
	BUILD=${BUILD:-$TOP/build/$SERIES}
else
	SERIES_DIR=$TOP
	BUILD=${BUILD:-$TOP/build}
fi
BUILD_TOP=$TOP/build
TREE=$BUILD/linux                 # git work tree: base + series, one commit a patch
KUNIT_BUILD=$BUILD/kunit-arm64    # O= of the test kernel (kept between runs)
CHECK_SRC=$BUILD/check-src        # git worktree the static checks build from
CHECK_BUILD=$BUILD/check-arm64    # O= of the static-check builds
PATCHES=$SERIES_DIR/patches
JOBS=${JOBS:-$(nproc)}
CROSS=aarch64-linux-gnu-
BASE_TAG=base
SERIES_BRANCH=series

# shellcheck source=../BASE
. "$SERIES_DIR/BASE"
BASE_SUITE=${BASE_SUITE:-}

say() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Fixed identity and dates for commits the harness makes itself, so the base
# commit (and so every exported base-commit: line) is the same on every machine.
harness_git() {
	GIT_AUTHOR_NAME="iommu-aux harness" GIT_AUTHOR_EMAIL="harness@iommu-aux.invalid" \
	GIT_COMMITTER_NAME="iommu-aux harness" GIT_COMMITTER_EMAIL="harness@iommu-aux.invalid" \
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git "$@"
}

# The patches of the series, in order.
series_patches() {
	[ -f "$PATCHES/series" ] || die "$PATCHES/series is missing"
	grep -v -e '^#' -e '^[[:space:]]*$' "$PATCHES/series"
}

# One hash over the series file and every patch it names: the tree is stamped
# with it when the series is applied.
series_hash() {
	{
		cat "$PATCHES/series"
		series_patches | while read -r p; do cat "$PATCHES/$p"; done
	} | sha256sum | cut -d' ' -f1
}

installed_base_version() {
	if [ -n "$BASE_SUITE" ]; then
		[ -f "$(downloaded_base_dir)/$BASE_TARBALL" ] && printf '%s' "$BASE_VERSION"
		return 0
	fi
	dpkg-query -W -f='${Version}' "$BASE_PACKAGE" 2>/dev/null || true
}

# The base tarball on this machine: the installed package's, or the one
# extracted from a downloaded package.
base_tarball() {
	if [ -n "$BASE_SUITE" ]; then
		printf '%s/%s' "$(downloaded_base_dir)" "$BASE_TARBALL"
	else
		printf '%s' "$BASE_TARBALL"
	fi
}

# Checks the installed base against BASE: same version and sha256, or a newer
# version with a warning naming both.
check_base() {
	local have sum
	have=$(installed_base_version)
	if [ -n "$BASE_SUITE" ]; then
		[ -n "$have" ] || die "$BASE_PACKAGE $BASE_VERSION is not downloaded: run 'make deps'"
	else
		[ -n "$have" ] || die "$BASE_PACKAGE is not installed: run 'make deps' (apt-get install $BASE_PACKAGE)"
		[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL is missing: reinstall $BASE_PACKAGE"
	fi
	if [ "$have" = "$BASE_VERSION" ]; then
		sum=$(sha256sum "$(base_tarball)" | cut -d' ' -f1)
		[ "$sum" = "$BASE_SHA256" ] ||
			die "$(base_tarball) has sha256 $sum, BASE pins $BASE_SHA256 for $BASE_VERSION"
	elif dpkg --compare-versions "$have" gt "$BASE_VERSION"; then
		warn "base is $BASE_PACKAGE $have, newer than the pinned $BASE_VERSION; using it as long as the series applies"
	else
		die "$BASE_PACKAGE $have is older than the pinned $BASE_VERSION: apt-get install $BASE_PACKAGE"
	fi
}

# A private apt for what the host's sources do not carry (newer suites'
# packages and source packages). Everything lives under build/apt: its own
# sources file, lists, cache and an empty dpkg status, so the host's apt
# configuration and installed packages are never touched. Only downloads.
PAPT_DIR=$BUILD_TOP/apt
PAPT_MIRROR=${PAPT_MIRROR:-http://deb.debian.org/debian}
# sid only for the source of a tool Debian has nowhere else (harness/sparse.sh).
PAPT_SUITES=(trixie trixie-updates trixie-backports sid)

papt() {
	apt-get -q \
		-o Dir::Etc::SourceList="$PAPT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$PAPT_DIR/lists" -o Dir::Cache="$PAPT_DIR/cache" \
		-o Dir::State::Status=/dev/null -o Debug::NoLocking=1 \
		-o APT::Sandbox::User=root "$@"
}

papt_cache() {
	apt-cache \
		-o Dir::Etc::SourceList="$PAPT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$PAPT_DIR/lists" -o Dir::Cache="$PAPT_DIR/cache" \
		-o Dir::State::Status=/dev/null "$@"
}

# Writes the private sources (binary and source packages of PAPT_SUITES) and
# refreshes the lists when they are missing or older than a day.
papt_update() {
	local s keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$PAPT_DIR/lists/partial" "$PAPT_DIR/cache/archives/partial"
	{
		for s in "${PAPT_SUITES[@]}"; do
			printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$PAPT_MIRROR" "$s"
			printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$PAPT_MIRROR" "$s"
		done
	} >"$PAPT_DIR/sources.list.new"
	if cmp -s "$PAPT_DIR/sources.list.new" "$PAPT_DIR/sources.list" &&
		[ -n "$(find "$PAPT_DIR/lists" -maxdepth 1 -name '*Packages' -mmin -1440 2>/dev/null | head -1)" ]; then
		rm -f "$PAPT_DIR/sources.list.new"
		return 0
	fi
	mv "$PAPT_DIR/sources.list.new" "$PAPT_DIR/sources.list"
	papt update >"$PAPT_DIR/update.log" 2>&1 ||
		die "private apt update failed (sources in $PAPT_DIR/sources.list); see $PAPT_DIR/update.log"
}

# A base that comes from another suite (BASE_SUITE set) is downloaded with the
# private apt and extracted under build/base/, never installed.
downloaded_base_dir() { printf '%s/base/%s_%s' "$BUILD_TOP" "$BASE_PACKAGE" "$BASE_VERSION"; }

fetch_base() {
	local dir deb tmp sum served
	dir=$(downloaded_base_dir)
	[ -f "$dir/$BASE_TARBALL" ] && return 0
	papt_update
	tmp=$(mktemp -d "$BUILD_TOP/.base.XXXXXX")
	if ! (cd "$tmp" && papt download "$BASE_PACKAGE=$BASE_VERSION" >download.log 2>&1); then
		served=$(papt_cache madison "$BASE_PACKAGE" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -V | tail -1)
		rm -rf "$tmp"
		die "the archive does not serve $BASE_PACKAGE $BASE_VERSION (pinned in BASE); the newest it serves: ${served:-none}"
	fi
	deb=$(ls "$tmp"/*.deb)
	sum=$(sha256sum "$deb" | cut -d' ' -f1)
	[ "$sum" = "$BASE_DEB_SHA256" ] || { rm -rf "$tmp"; die "$(basename "$deb") has sha256 $sum, BASE pins $BASE_DEB_SHA256"; }
	mkdir -p "$tmp/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" "./$BASE_TARBALL"
	mkdir -p "$(dirname "$dir")"
	rm -rf "$dir"
	mv "$tmp/x" "$dir"
	rm -rf "$tmp"
}
