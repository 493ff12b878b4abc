# SPDX-License-Identifier: GPL-2.0
# iommu-aux: the series in patches/, applied to the base named in BASE.
#   make demo     the main job: boot the patched kernel under QEMU and report
#   make test     build + boot the KUnit kernel, judge every suite and the log
#   make check    checkpatch, W=1 + sparse, kernel-doc, every prefix builds
#   make bench    build + boot the benchmark kernel, print its table of ratios
#   make tree     build/linux: base + series as git commits, to work in
#   make export   build/linux -> patches/ (then commit patches/ here)
#   make deps     install what is missing, from Debian's packages
#   make qemu     the project's qemu-system-aarch64 (qemu/): build if missing, print its path
#   make qemu-tree / qemu-export   build/qemu-src <-> qemu/patches

SHELL := /bin/bash
H := harness

.PHONY: all deps tree export test check demo bench qemu qemu-tree qemu-export clean distclean help

all: help

help:
	@sed -n '2,12s/^# \{0,1\}//p' Makefile

deps:
	@$(H)/deps.sh

tree: deps
	@$(H)/tree.sh

export:
	@$(H)/export.sh

test: tree
	@python3 $(H)/test.py

check: tree
	@$(H)/check.sh

demo: tree
	@python3 $(H)/demo.py

bench: tree
	@python3 $(H)/bench.py

# The project's QEMU (harness/qemu.sh): built into /var/cache/iommu-aux/qemu/<key>.
qemu:
	@$(H)/qemu.sh

qemu-tree:
	@$(H)/qemu.sh --tree

qemu-export:
	@$(H)/qemu.sh --export

# Keeps build/linux (it may hold unexported work); drops the build outputs.
clean:
	rm -rf build/kunit-arm64 build/kunit-pt-um build/bench-arm64 build/check-arm64 \
		build/check-matrix-* build/check-sphinx build/selftests build/demo build/logs
	-git -C build/linux worktree remove --force ../check-src 2>/dev/null

distclean:
	rm -rf build
