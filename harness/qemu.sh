#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The project's qemu-system-aarch64: Debian's qemu source package (qemu/BASE)
# with Debian's patches and then qemu/patches/series applied, built with only
# what the tests use (qemu/aarch64-devices.mak) into a cache outside the clone,
# keyed by the sources, the patches and the configure arguments.
# Usage: harness/qemu.sh            build if missing, print the binary's path
#        harness/qemu.sh --path     the same (for scripts: only the path on stdout)
#        harness/qemu.sh --tree     build/qemu-src: base + patches as git commits
#        harness/qemu.sh --export   build/qemu-src -> qemu/patches (+ series)
#        harness/qemu.sh --dev      build build/qemu-src as it is (unexported work
#                                   included) and print build/qemu-build's binary
#        harness/qemu.sh --checkpatch   QEMU's scripts/checkpatch.pl on every patch
#        harness/qemu.sh --smoke    qemu/pasid-smoke.py on the cached binary
. "$(dirname "$0")/lib.sh"

QDIR=$TOP/qemu
QPATCHES=$QDIR/patches
QDEVICES=$QDIR/aarch64-devices.mak
QDL=$BUILD_TOP/qemu-dl          # the source package as downloaded
QTOOLS=$BUILD_TOP/qemu-tools    # meson and pycotap from QEMU_SUITE, extracted
QSRC=$BUILD_TOP/qemu-src        # git work tree: base (tag "base") + qemu/patches
QBUILD=$BUILD_TOP/qemu-build    # configure + ninja output
QCACHE=${QEMU_CACHE:-/var/cache/iommu-aux/qemu}
QSTAMP=$QSRC/.git/iommu-aux-applied   # "<patches hash> <HEAD after git am>"
BUILD_LOCK=${IOMMU_AUX_BUILD_LOCK:-/tmp/iommu-aux-build.lock}  # heavy builds never overlap

# shellcheck source=../qemu/BASE
. "$QDIR/BASE"

# Everything goes to stderr but the path: --path output is for scripts.
qsay() { printf 'qemu: %s\n' "$*" >&2; }

qseries_patches() {
	grep -v -e '^#' -e '^[[:space:]]*$' "$QPATCHES/series" || true
}

qseries_hash() {
	{
		cat "$QPATCHES/series"
		qseries_patches | while read -r p; do cat "$QPATCHES/$p"; done
	} | sha256sum | cut -d' ' -f1
}

# configure's arguments. The devices file has to be named relative to
# configs/devices/aarch64-softmmu/ of the source tree (configure's rule), so it
# is read from qemu/ where it is kept rather than copied into the tree.
# install_blobs off: the +ds tarball carries no firmware blobs, and only the
# binary is installed.
QEMU_CONFIGURE=(
	--target-list=aarch64-softmmu
	--without-default-features
	--without-default-devices
	--with-devices-aarch64=../../../../../qemu/aarch64-devices
	--enable-fdt=system
	--disable-install-blobs
	--disable-download
)

qemu_key() {
	{
		cat "$QDIR/BASE" "$QPATCHES/series"
		qseries_patches | while read -r p; do cat "$QPATCHES/$p"; done
		cat "$QDEVICES"
		printf '%s\n' "${QEMU_CONFIGURE[@]}"
	} | sha256sum | cut -d' ' -f1
}

cached_binary() { printf '%s/%s/bin/qemu-system-aarch64' "$QCACHE" "$(qemu_key)"; }

# meson >= 1.5 for configure and ninja's regeneration steps.
tools_env() {
	export PYTHONPATH=$QTOOLS/root/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}
}

fetch_tools() {
	local spec pkg ver sum deb got
	[ -f "$QTOOLS/.done-$MESON_VERSION-$PYCOTAP_VERSION" ] && return 0
	papt_update
	rm -rf "$QTOOLS"
	mkdir -p "$QTOOLS/debs"
	for spec in "meson $MESON_VERSION $MESON_DEB_SHA256" "python3-pycotap $PYCOTAP_VERSION $PYCOTAP_DEB_SHA256"; do
		read -r pkg ver sum <<<"$spec"
		(cd "$QTOOLS/debs" && papt download "$pkg=$ver" >>download.log 2>&1) ||
			die "the archive does not serve $pkg $ver (pinned in qemu/BASE); it serves: $(papt_cache madison "$pkg" | awk -F'|' '/Packages/ {gsub(/ /,"",$2); print $2}' | sort -uV | tr '\n' ' ')"
		deb=$(ls "$QTOOLS/debs/${pkg}_"*.deb)
		got=$(sha256sum "$deb" | cut -d' ' -f1)
		[ "$got" = "$sum" ] || die "$(basename "$deb") has sha256 $got, qemu/BASE pins $sum"
		dpkg-deb -x "$deb" "$QTOOLS/root"
	done
	touch "$QTOOLS/.done-$MESON_VERSION-$PYCOTAP_VERSION"
}

dsc_name() {
	local v=${QEMU_VERSION#*:}
	printf '%s_%s.dsc' "$QEMU_PACKAGE" "$v"
}

fetch_source() {
	local dsc sum served
	dsc=$QDL/$(dsc_name)
	if [ ! -f "$dsc" ]; then
		papt_update
		rm -rf "$QDL"
		mkdir -p "$QDL"
		if ! (cd "$QDL" && papt source --download-only "$QEMU_PACKAGE=$QEMU_VERSION" >download.log 2>&1); then
			served=$(papt_cache madison "$QEMU_PACKAGE" 2>/dev/null | awk -F'|' '/Sources/ {gsub(/ /,"",$2); print $2}' | sort -uV | tr '\n' ' ')
			die "the archive does not serve the $QEMU_PACKAGE source $QEMU_VERSION (pinned in qemu/BASE); it serves: ${served:-none}"
		fi
	fi
	sum=$(sha256sum "$dsc" | cut -d' ' -f1)
	[ "$sum" = "$QEMU_DSC_SHA256" ] || die "$(basename "$dsc") has sha256 $sum, qemu/BASE pins $QEMU_DSC_SHA256"
}

unpack_base() {
	local tmp
	command -v dpkg-source >/dev/null || die "dpkg-source is missing: run 'make deps' (dpkg-dev)"
	fetch_source
	qsay "unpacking $QEMU_PACKAGE $QEMU_VERSION (Debian's patches applied) into $QSRC"
	tmp=$(mktemp -d "$BUILD_TOP/.qemu-unpack.XXXXXX")
	# dpkg-source checks the tarballs against the .dsc, whose sha256 is pinned.
	(cd "$tmp" && dpkg-source -q -x "$QDL/$(dsc_name)" src >"$tmp/unpack.log" 2>&1) ||
		{ cat "$tmp/unpack.log" >&2; rm -rf "$tmp"; die "dpkg-source -x failed"; }
	rm -rf "$QSRC" "$tmp/src/.pc"
	mv "$tmp/src" "$QSRC"
	rm -rf "$tmp"
	git -C "$QSRC" init -q -b master
	git -C "$QSRC" config user.name "${GIT_AUTHOR_NAME:-iommu-aux developer}"
	git -C "$QSRC" config user.email "${GIT_AUTHOR_EMAIL:-dev@iommu-aux.invalid}"
	git -C "$QSRC" config core.abbrev 12
	git -C "$QSRC" config diff.orderFile scripts/git.orderfile
	git -C "$QSRC" add -A -f .
	harness_git -C "$QSRC" commit -q -m "QEMU $(cat "$QSRC/VERSION") ($QEMU_PACKAGE $QEMU_VERSION)" \
		-m "Debian's source package as unpacked by dpkg-source -x, Debian's patches applied (quilt's .pc/ dropped)."
	git -C "$QSRC" tag -f base >/dev/null
}

apply_series() {
	local p n=0 out
	for p in $(qseries_patches); do
		n=$((n + 1))
		[ -f "$QPATCHES/$p" ] || die "qemu/patches/series names $p, which is not in qemu/patches/"
		if ! out=$(git -C "$QSRC" am -q --keep-cr "$QPATCHES/$p" 2>&1); then
			git -C "$QSRC" am --abort >/dev/null 2>&1 || true
			printf 'error: QEMU patch %d (%s) does not apply:\n%s\n' "$n" "$p" "$out" >&2
			exit 1
		fi
	done
	qsay "applied $n patches on base ($(git -C "$QSRC" rev-parse --short base))"
	printf '%s %s\n' "$(qseries_hash)" "$(git -C "$QSRC" rev-parse HEAD)" >"$QSTAMP"
}

# build/qemu-src up to date with qemu/patches. Sets UNEXPORTED=1 (with a note)
# when the tree holds work that is not exported yet, which it leaves alone.
UNEXPORTED=0
make_tree() {
	local applied_hash applied_head head dirty
	if [ ! -d "$QSRC/.git" ]; then
		unpack_base
		apply_series
		return 0
	fi
	read -r applied_hash applied_head 2>/dev/null <"$QSTAMP" || { applied_hash=; applied_head=; }
	head=$(git -C "$QSRC" rev-parse HEAD)
	dirty=$(git -C "$QSRC" status --porcelain --untracked-files=no)
	if [ "$applied_hash" = "$(qseries_hash)" ]; then
		if [ "$head" != "$applied_head" ] || [ -n "$dirty" ]; then
			qsay "$QSRC has work not in qemu/patches yet (make qemu-export)"
			UNEXPORTED=1
		fi
		return 0
	fi
	if [ "${FORCE:-0}" != 1 ] && { [ "$head" != "$applied_head" ] || [ -n "$dirty" ]; }; then
		die "qemu/patches changed, and $QSRC has work that is not in qemu/patches: 'make qemu-export' to keep it, or FORCE=1 to discard it"
	fi
	qsay "qemu/patches changed; re-applying the series"
	git -C "$QSRC" am --abort >/dev/null 2>&1 || true
	git -C "$QSRC" reset -q --hard base
	apply_series
}

# configure (when its arguments changed) and ninja, under the build lock.
build_tree() {
	local args_hash
	fetch_tools
	tools_env
	args_hash=$(printf '%s\n' "${QEMU_CONFIGURE[@]}" | cat - "$QDEVICES" | sha256sum | cut -d' ' -f1)
	(
		local t0=$SECONDS t1
		flock 9
		t1=$SECONDS
		if [ "$(cat "$QBUILD/.iommu-aux-configured" 2>/dev/null)" != "$args_hash" ]; then
			rm -rf "$QBUILD"
			mkdir -p "$QBUILD"
			qsay "configure: ${QEMU_CONFIGURE[*]}"
			(cd "$QBUILD" && "$QSRC/configure" "${QEMU_CONFIGURE[@]}" >configure.log 2>&1) ||
				{ tail -30 "$QBUILD/configure.log" >&2; die "configure failed; see $QBUILD/configure.log"; }
			echo "$args_hash" >"$QBUILD/.iommu-aux-configured"
		fi
		qsay "building qemu-system-aarch64 (-j$JOBS)"
		ninja -C "$QBUILD" -j"$JOBS" qemu-system-aarch64 >"$QBUILD/build.log" 2>&1 ||
			{ grep -E -m 20 -B2 -A8 'error|FAILED' "$QBUILD/build.log" >&2; die "build failed; see $QBUILD/build.log"; }
		qsay "built in $((SECONDS - t1)) s (waited $((t1 - t0)) s for $BUILD_LOCK)"
	) 9>"$BUILD_LOCK"
}

install_binary() {
	local key dir tmp
	key=$(qemu_key)
	dir=$QCACHE/$key
	mkdir -p "$QCACHE"
	tmp=$(mktemp -d "$QCACHE/.new.XXXXXX")
	mkdir -p "$tmp/bin"
	cp "$QBUILD/qemu-system-aarch64" "$tmp/bin/"
	{
		printf 'key=%s\n' "$key"
		printf 'qemu=%s %s\n' "$QEMU_PACKAGE" "$QEMU_VERSION"
		printf 'patches:\n'; qseries_patches | sed 's/^/  /'
		printf 'configure: %s\n' "${QEMU_CONFIGURE[*]}"
		printf 'built=%s from %s\n' "$(date -u +%FT%TZ)" "$(git -C "$QSRC" rev-parse HEAD)"
	} >"$tmp/BUILDINFO"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

ensure_binary() {
	local bin
	bin=$(cached_binary)
	if [ -x "$bin" ]; then
		printf '%s\n' "$bin"
		return 0
	fi
	make_tree
	[ "$UNEXPORTED" = 0 ] || die "$QSRC holds unexported work, so the cached build (keyed by qemu/patches) cannot be made from it: 'make qemu-export' first, or 'harness/qemu.sh --dev' to build the tree as it is"
	build_tree
	install_binary
	qsay "installed $bin"
	printf '%s\n' "$bin"
}

export_series() {
	local n tmp
	[ -d "$QSRC/.git" ] || die "no tree at $QSRC: run 'make qemu-tree' first"
	[ -z "$(git -C "$QSRC" status --porcelain --untracked-files=no)" ] ||
		die "$QSRC has uncommitted changes: commit them first"
	n=$(git -C "$QSRC" rev-list --count base..HEAD)
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	if [ "$n" -gt 0 ]; then
		git -C "$QSRC" format-patch -q --zero-commit --no-signature --base=base \
			-o "$tmp" base..HEAD
	fi
	rm -f "$QPATCHES"/*.patch
	mkdir -p "$QPATCHES"
	[ "$n" -eq 0 ] || mv "$tmp"/*.patch "$QPATCHES"/
	{
		echo "# Applied in this order with git am by harness/qemu.sh. Generated by make qemu-export."
		(cd "$QPATCHES" && ls [0-9][0-9][0-9][0-9]-*.patch 2>/dev/null || true)
	} >"$QPATCHES/series"
	printf '%s %s\n' "$(qseries_hash)" "$(git -C "$QSRC" rev-parse HEAD)" >"$QSTAMP"
	qsay "export: $n patches written to qemu/patches/"
	git -C "$TOP" status --short -- qemu/patches/ | sed 's/^/  /' >&2
}

# QEMU's own checkpatch on every patch of the series (what qemu-devel runs).
checkpatch_series() {
	local p bad=0
	[ -f "$QSRC/scripts/checkpatch.pl" ] || make_tree
	for p in $(qseries_patches); do
		if perl "$QSRC/scripts/checkpatch.pl" -q "$QPATCHES/$p" >&2; then
			printf 'checkpatch: clean: %s\n' "$p"
		else
			printf 'checkpatch: FAILED: %s\n' "$p"
			bad=1
		fi
	done
	return $bad
}

case "${1:-}" in
'' | --path) ensure_binary ;;
--tree) make_tree ;;
--export) export_series ;;
--dev)
	[ -d "$QSRC/.git" ] || make_tree
	build_tree
	printf '%s\n' "$QBUILD/qemu-system-aarch64"
	;;
--key) qemu_key ;;
--checkpatch) checkpatch_series ;;
--smoke) python3 "$QDIR/pasid-smoke.py" "$(ensure_binary)" ;;
*) die "usage: $0 [--path|--tree|--export|--dev|--key|--checkpatch|--smoke]" ;;
esac
