#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make tree: build/linux = the pinned base (commit tagged "base") + patches/
# applied with git am, one commit a patch. Re-running it is cheap: an up-to-date
# tree is left alone, a tree whose patches/ changed is re-applied, and a tree
# with work that is not exported yet is refused (FORCE=1 discards that work).
. "$(dirname "$0")/lib.sh"

STAMP=$TREE/.git/iommu-aux-applied   # "<series hash> <HEAD after git am>"

unpack_base() {
	local tmp
	check_base
	say "tree: unpacking $(base_tarball) into $TREE"
	mkdir -p "$BUILD"
	tmp=$(mktemp -d "$BUILD/.unpack.XXXXXX")
	tar -C "$tmp" -xJf "$(base_tarball)"
	mv "$tmp"/linux-source-* "$TREE"
	rmdir "$tmp"
	git -C "$TREE" init -q -b "$SERIES_BRANCH"
	git -C "$TREE" config user.name "${GIT_AUTHOR_NAME:-iommu-aux developer}"
	git -C "$TREE" config user.email "${GIT_AUTHOR_EMAIL:-dev@iommu-aux.invalid}"
	git -C "$TREE" config core.abbrev 12
	# Debian appends "/*" to .gitignore, which hides every new top-level
	# path from git status; the base commit drops that packaging section.
	sed -i '/^# Debian packaging: ignore everything/,$d' "$TREE/.gitignore"
	sed -i '${/^#$/d}' "$TREE/.gitignore"
	# -f: commit the package as shipped, .gitignore'd files included.
	git -C "$TREE" add -A -f .
	harness_git -C "$TREE" commit -q -m "Linux $(make -s -C "$TREE" kernelversion) ($BASE_PACKAGE $(installed_base_version))" \
		-m "The package's sources as shipped, except that the Debian packaging section at the end of .gitignore is dropped."
	git -C "$TREE" tag -f "$BASE_TAG" >/dev/null
}

apply_series() {
	local p n=0 out
	for p in $(series_patches); do
		n=$((n + 1))
		[ -f "$PATCHES/$p" ] || die "series names $p, which is not in patches/"
		if ! out=$(git -C "$TREE" am -q --keep-cr "$PATCHES/$p" 2>&1); then
			git -C "$TREE" am --abort >/dev/null 2>&1 || true
			printf 'error: patch %d (%s) does not apply to %s:\n' "$n" "$p" "$(git -C "$TREE" describe --always)" >&2
			printf '%s\n' "$out" | grep -E '^(error|Patch failed|.*patch failed)' | sed 's/^/  /' >&2
			exit 1
		fi
	done
	say "tree: applied $n patches on $BASE_TAG ($(git -C "$TREE" rev-parse --short "$BASE_TAG"))"
	printf '%s %s\n' "$(series_hash)" "$(git -C "$TREE" rev-parse HEAD)" >"$STAMP"
}

if [ ! -d "$TREE/.git" ]; then
	rm -rf "$TREE"
	unpack_base
	apply_series
	exit 0
fi

read -r applied_hash applied_head <"$STAMP" 2>/dev/null || { applied_hash=; applied_head=; }
head=$(git -C "$TREE" rev-parse HEAD)
dirty=$(git -C "$TREE" status --porcelain --untracked-files=no)

if [ "$applied_hash" = "$(series_hash)" ]; then
	if [ "$head" != "$applied_head" ] || [ -n "$dirty" ]; then
		say "tree: $TREE has work not in patches/ yet (make export); using the tree as it is"
	else
		say "tree: $TREE is up to date with patches/"
	fi
	exit 0
fi

if [ "${FORCE:-0}" != 1 ] && { [ "$head" != "$applied_head" ] || [ -n "$dirty" ]; }; then
	die "patches/ changed, and $TREE has commits or changes that are not in patches/: run 'make export' to keep them, or 'make tree FORCE=1' to discard them"
fi
say "tree: patches/ changed; re-applying the series"
git -C "$TREE" am --abort >/dev/null 2>&1 || true
git -C "$TREE" checkout -q -f "$SERIES_BRANCH" 2>/dev/null || git -C "$TREE" checkout -q -f -B "$SERIES_BRANCH"
git -C "$TREE" reset -q --hard "$BASE_TAG"
apply_series
