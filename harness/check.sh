#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: the static checks a reviewer runs before looking at a series.
#  - checkpatch.pl --strict on every patch: no ERROR, no WARNING
#  - every prefix of the series builds drivers/iommu/ and samples/ for arm64
#    with W=1, and
#    adds no warning the base does not have (each failure names the patch)
#  - sparse (C=2) on the same at the top of the series: nothing new
#  - the build matrix at the top of the series (harness/check/matrix/, or
#    check/matrix/ of a series folder): arm64
#    with the series' options =y, =m and =n, x86_64 (VT-d and AMD) with the
#    core on: each builds, gets the options it asks for, and has no
#    W=1 warning in a file the series touches
#  - scripts/kernel-doc -none -Wall: nothing new on any file the series touches
#  - every .rst page the series adds builds with Sphinx and the kernel's
#    conf.py (its kernel-doc directives included) without a warning
# Ends with "N passed, M failed".
. "$(dirname "$0")/lib.sh"

# A series folder (SERIES=dir) brings its own config and matrix in check/.
CHECK_DIR=$TOP/harness/check
[ -z "$SERIES" ] || CHECK_DIR=$SERIES_DIR/check
CONFIG_FRAGMENT=$CHECK_DIR/arm64.config
LOGDIR=$BUILD/logs/check
mkdir -p "$LOGDIR"
passed=0
failed=0

pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }

[ -d "$TREE/.git" ] || die "no tree at $TREE: run 'make tree' first"
commits=$(git -C "$TREE" rev-list --reverse "$BASE_TAG..HEAD")
[ -n "$commits" ] || die "$TREE has no commits on top of $BASE_TAG"

subject() { git -C "$TREE" log -1 --format='%s' "$1"; }
patchname() { # "0003 iommu: Add ..." for a commit of the series
	printf '%04d %s' "$(git -C "$TREE" rev-list --count "$BASE_TAG..$1")" "$(subject "$1")"
}

# --- checkpatch, on the commits as they would be exported ---------------------
# checkpatch asks "does MAINTAINERS need updating?" of every new file. That is
# answered by get_maintainer.pl: each file a patch adds must have a maintainer
# other than the catch-all THE REST.
unmaintained() { # files added by commit $1 that only THE REST covers
	local f
	for f in $(git -C "$TREE" diff-tree --no-commit-id --name-only --diff-filter=A -r "$1"); do
		[ -e "$TREE/$f" ] || continue
		(cd "$TREE" && ./scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
			--nol --nos -f "$f" 2>/dev/null) | grep -qv torvalds@ || echo "$f"
	done
}

for c in $commits; do
	orphans=$(unmaintained "$c")
	if [ -n "$orphans" ]; then
		fail "MAINTAINERS: $(patchname "$c") adds files no entry covers: $orphans"
	fi
	# UNKNOWN_COMMIT_ID: the base is a tarball with no upstream history,
	# so checkpatch cannot look up the commit a Fixes: tag names.
	out=$(cd "$TREE" && git format-patch -1 --stdout "$c" |
		./scripts/checkpatch.pl --strict --no-color --show-types \
			--ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID - 2>&1) || true
	sum=$(printf '%s\n' "$out" | grep -E '^total: ' | tail -1)
	errs=$(printf '%s\n' "$sum" | sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p')
	read -r e w k <<<"${errs:-1 0 0}"
	if [ "$e" = 0 ] && [ "$w" = 0 ]; then
		pass "checkpatch --strict: $(patchname "$c") ($k checks)"
		[ "$k" = 0 ] || printf '%s\n' "$out" | grep -E '^CHECK:' | sed 's/^/        /'
	else
		fail "checkpatch --strict: $(patchname "$c"): $e errors, $w warnings"
		printf '%s\n' "$out" | grep -E -A3 '^(ERROR|WARNING):' | sed 's/^/        /'
	fi
done

# --- builds: base (baseline warnings), each patch, sparse at the top ----------
if [ ! -d "$CHECK_SRC" ]; then
	git -C "$TREE" worktree prune
	git -C "$TREE" worktree add -q --detach "$CHECK_SRC" "$BASE_TAG"
fi
MAKE=(make -s -C "$CHECK_SRC" O="$CHECK_BUILD" ARCH=arm64 CROSS_COMPILE=$CROSS -j"$JOBS")

# .config in build directory $1: its arch's defconfig (made once) plus
# fragment $2; the rest of the arguments is the make command for $1.
configure_in() {
	local out=$1 frag=$2
	shift 2
	if [ ! -f "$out/defconfig.base" ]; then
		mkdir -p "$out"
		"$@" defconfig >/dev/null || return
		cp "$out/.config" "$out/defconfig.base"
	fi
	# Start from the same config at every commit, so an option a later
	# patch adds is not dropped by an earlier commit's olddefconfig.
	cat "$out/defconfig.base" "$frag" >"$out/.config"
	"$@" olddefconfig >/dev/null 2>&1
}
configure() { configure_in "$CHECK_BUILD" "$CONFIG_FRAGMENT" "${MAKE[@]}"; }

# Warnings without line numbers and build-dir prefixes, so the same warning in
# the same file compares equal across commits.
normalize() {
	{ grep -E '(warning|error):' || true; } | sed -E "s#^$CHECK_SRC/##; s#^\.\./check-src/##; s#:[0-9]+:[0-9]+:#:#; s#:[0-9]+:#:#" | sort -u
}

# What the series touches: the iommu drivers and its samples.
TARGETS="drivers/iommu/ samples/"

build_at() { # commit, log, extra make args...
	local c=$1 log=$2
	shift 2
	git -C "$CHECK_SRC" checkout -q --detach "$c"
	configure
	"${MAKE[@]}" W=1 "$@" $TARGETS >"$log" 2>&1
}

# The sparse that can parse this base (harness/sparse.sh, built from BASE's SPARSE_VERSION).
SPARSE_BIN=$("$TOP/harness/sparse.sh")
base=$(git -C "$TREE" rev-parse "$BASE_TAG")
baseline=$CHECK_BUILD/baseline.$base.$(cat "$CONFIG_FRAGMENT" <(echo "$SPARSE_BIN") | sha256sum | cut -c1-12)
if [ ! -f "$baseline" ]; then
	say "check: building the base once for its warnings (cold build)"
	build_at "$base" "$LOGDIR/base.log" C=2 CHECK="$SPARSE_BIN" || { tail -30 "$LOGDIR/base.log"; die "the base does not build"; }
	normalize <"$LOGDIR/base.log" >"$baseline"
fi

last=
for c in $commits; do
	last=$c
	log=$LOGDIR/$(git -C "$TREE" rev-list --count "$BASE_TAG..$c").log
	extra=()
	[ "$c" = "$(git -C "$TREE" rev-parse HEAD)" ] && extra=(C=2 CHECK="$SPARSE_BIN")
	if ! build_at "$c" "$log" "${extra[@]}"; then
		fail "build $TARGETS (W=1): $(patchname "$c")"
		grep -E 'error' "$log" | head -10 | sed 's/^/        /'
		continue
	fi
	new=$(normalize <"$log" | comm -13 "$baseline" -)
	what="W=1"
	[ ${#extra[@]} -gt 0 ] && what="W=1, sparse"
	# The kernel turns C=2 off by itself when the sparse it finds cannot
	# parse the tree (7.3 needs __typeof_unqual__, which sparse 0.6.4 lacks):
	# that is a check not run, not a pass.
	if [ ${#extra[@]} -gt 0 ] && grep -q 'is not available or not up to date' "$log"; then
		fail "sparse (C=2): not run at $(patchname "$c"): $SPARSE_BIN cannot check this tree"
		what="W=1"
	fi
	if [ -z "$new" ]; then
		pass "build $TARGETS ($what): $(patchname "$c")"
	else
		fail "build $TARGETS ($what): $(patchname "$c"): new warnings"
		printf '%s\n' "$new" | head -20 | sed 's/^/        /'
	fi
done
# Leave the worktree at the top of the series.
git -C "$CHECK_SRC" checkout -q --detach "$last"

# --- build matrix, at the top of the series ------------------------------------
# One build directory per arch, so the arm64 variants rebuild only what their
# options change. A variant passes if olddefconfig kept every option its
# fragment sets (else it would test something else), the build succeeds, and
# no W=1 warning names a file the series adds or changes.
touched=$(git -C "$TREE" diff --name-only "$BASE_TAG" HEAD)
cross_for() { if [ "$1" = arm64 ]; then echo "$CROSS"; fi; }
for frag in "$CHECK_DIR"/matrix/*.config; do
	name=$(basename "$frag" .config)
	arch=${name%%-*}
	out=$BUILD/check-matrix-$arch
	log=$LOGDIR/matrix-$name.log
	mk=(make -s -C "$CHECK_SRC" O="$out" ARCH="$arch" CROSS_COMPILE="$(cross_for "$arch")" -j"$JOBS")
	if ! configure_in "$out" "$frag" "${mk[@]}"; then
		fail "matrix $name: make defconfig or olddefconfig"
		continue
	fi
	lost=$(grep -E '^(CONFIG_[A-Z0-9_]+=.*|# CONFIG_[A-Z0-9_]+ is not set)$' "$frag" |
		while read -r want; do
			opt=$(sed -E 's/^# (CONFIG_[A-Z0-9_]+) is not set$/\1/; s/=.*//' <<<"$want")
			got=$(grep -E "^($opt=|# $opt is not set)" "$out/.config" || echo "# $opt is not set")
			[ "$got" = "$want" ] || echo "$want (got: $got)"
		done)
	if [ -n "$lost" ]; then
		fail "matrix $name: olddefconfig changed what it asks for"
		printf '%s\n' "$lost" | sed 's/^/        /'
		continue
	fi
	if ! "${mk[@]}" W=1 $TARGETS >"$log" 2>&1; then
		fail "matrix $name: build $TARGETS (W=1) fails"
		grep -E 'error' "$log" | head -10 | sed 's/^/        /'
		continue
	fi
	ours=$(normalize <"$log" | grep -F -f <(printf '%s:\n' $touched) || true)
	if [ -z "$ours" ]; then
		pass "matrix $name: build $TARGETS (W=1), no warning in the series' files"
	else
		fail "matrix $name: W=1 warnings in the series' files"
		printf '%s\n' "$ours" | head -20 | sed 's/^/        /'
	fi
done

# --- kernel-doc on every C file and header the series touches -----------------
# Paths and line numbers dropped, so the base's warnings compare equal: 6.12
# prints "file:N: warning: ...", 7.3 "Warning: file:N ...".
kdoc() {
	"$TREE/scripts/kernel-doc" -none -Wall "$1" 2>&1 |
		sed -E 's#^[^ ]*:[0-9]+: ##; s#^(Warning|warning): [^ ]*:[0-9]+ #\1: #; s#line [0-9]+#line N#' | sort -u
}
for f in $(git -C "$TREE" diff --name-only --diff-filter=AM "$BASE_TAG" HEAD -- '*.c' '*.h'); do
	now=$(kdoc "$TREE/$f")
	before=
	if git -C "$TREE" cat-file -e "$BASE_TAG:$f" 2>/dev/null; then
		tmp=$(mktemp --suffix=."${f##*.}")
		git -C "$TREE" show "$BASE_TAG:$f" >"$tmp"
		before=$(kdoc "$tmp")
		rm -f "$tmp"
	fi
	new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$now") | sed '/^$/d')
	if [ -z "$new" ]; then
		pass "kernel-doc -Wall: $f"
	else
		touched=$(git -C "$TREE" log --reverse --format=%h "$BASE_TAG..HEAD" -- "$f" |
			while read -r h; do patchname "$h"; echo; done | paste -sd';')
		fail "kernel-doc -Wall: $f (touched by: $touched)"
		printf '%s\n' "$new" | head -20 | sed 's/^/        /'
	fi
done

# --- the series' documentation pages, with Sphinx ------------------------------
# Each page the series adds, alone in a one-page project that uses the
# kernel's conf.py, so its kernel-doc directives run too. A build of all of
# Documentation/ would take far longer and report the base's own warnings.
for f in $(git -C "$TREE" diff --name-only --diff-filter=A "$BASE_TAG" HEAD -- 'Documentation/*.rst'); do
	proj=$BUILD/check-sphinx
	src=$proj/Documentation/src
	rm -rf "$proj" && mkdir -p "$src"
	cp "$TREE/$f" "$src/"
	printf 'Check\n=====\n\n.. toctree::\n\n   %s\n' "$(basename "$f" .rst)" >"$src/index.rst"
	# 7.3's extensions read $srctree and look for MAINTAINERS beside the
	# Documentation directory the sources are in; 6.12's takes the path of
	# scripts/kernel-doc, 7.3's has it as a Python module.
	ln -s "$TREE/MAINTAINERS" "$proj/MAINTAINERS"
	defs=(-D kerneldoc_srctree="$TREE")
	if grep -q "add_config_value('kerneldoc_bin'" "$TREE/Documentation/sphinx/kerneldoc.py"; then
		defs+=(-D kerneldoc_bin="$TREE/scripts/kernel-doc")
	fi
	log=$LOGDIR/sphinx-$(basename "$f" .rst).log
	rc=0
	(cd "$TREE/Documentation" && srctree=$TREE sphinx-build -q -b html -c . -E \
		"${defs[@]}" "$src" "$proj/out") >"$log" 2>&1 || rc=$?
	# graphviz is not needed for these pages; its absence is not theirs.
	warns=$(grep -E 'WARNING|ERROR' "$log" | grep -v 'dot(1) not found' || true)
	if [ "$rc" = 0 ] && [ -z "$warns" ]; then
		pass "sphinx: $f"
	else
		fail "sphinx: $f"
		printf '%s\n' "${warns:-sphinx-build exited with $rc}" | head -20 | sed 's/^/        /'
	fi
done

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
