# SPDX-License-Identifier: GPL-2.0
# Shared settings for the harness scripts. Sourced, not run.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TREE=$BUILD/linux                 # git work tree: base + series, one commit a patch
KUNIT_BUILD=$BUILD/kunit-arm64    # O= of the test kernel (kept between runs)
CHECK_SRC=$BUILD/check-src        # git worktree the static checks build from
CHECK_BUILD=$BUILD/check-arm64    # O= of the static-check builds
PATCHES=$TOP/patches
JOBS=${JOBS:-$(nproc)}
CROSS=aarch64-linux-gnu-
BASE_TAG=base
SERIES_BRANCH=series

# shellcheck source=../BASE
. "$TOP/BASE"

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
	dpkg-query -W -f='${Version}' "$BASE_PACKAGE" 2>/dev/null || true
}

# Checks the installed base against BASE: same version and sha256, or a newer
# 6.12.y with a warning naming both.
check_base() {
	local have sum
	have=$(installed_base_version)
	[ -n "$have" ] || die "$BASE_PACKAGE is not installed: run 'make deps' (apt-get install $BASE_PACKAGE)"
	[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL is missing: reinstall $BASE_PACKAGE"
	if [ "$have" = "$BASE_VERSION" ]; then
		sum=$(sha256sum "$BASE_TARBALL" | cut -d' ' -f1)
		[ "$sum" = "$BASE_SHA256" ] ||
			die "$BASE_TARBALL has sha256 $sum, BASE pins $BASE_SHA256 for $BASE_VERSION"
	elif dpkg --compare-versions "$have" gt "$BASE_VERSION"; then
		warn "base is $BASE_PACKAGE $have, newer than the pinned $BASE_VERSION; using it as long as the series applies"
	else
		die "$BASE_PACKAGE $have is older than the pinned $BASE_VERSION: apt-get install $BASE_PACKAGE"
	fi
}
