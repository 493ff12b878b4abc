#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What the harness's Python scripts share: the paths of the series under test
(SERIES selects a series folder as harness/lib.sh does), the kunit.py build of the test
kernel, the QEMU machine of its config, and how a run is judged and summed up.
test.py, selftests.py, demo.py and bench.py import this module, and nothing
imports them back.
"""

import inspect
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HARNESS = os.path.join(TOP, 'harness')
# SERIES=dir tests a series in a folder of its own (the way a move to a new
# base lands before it replaces patches/) in build/dir/, as harness/lib.sh
# does. Such a folder brings what the harness keeps for the product series:
# BASE, patches/, suites, kunit/ (config fragments, kunitconfigs, machine),
# check/ and bench.config.
SERIES = os.environ.get('SERIES', '')
SERIES_DIR = os.path.join(TOP, SERIES) if SERIES else TOP
BUILD = os.environ.get('BUILD', os.path.join(TOP, 'build', SERIES) if SERIES else
		       os.path.join(TOP, 'build'))
TREE = os.path.join(BUILD, 'linux')
KUNIT_BUILD = os.path.join(BUILD, 'kunit-arm64')
LOGS = os.path.join(BUILD, 'logs')
CONF_DIR = SERIES_DIR if SERIES else HARNESS
SUITES = os.path.join(CONF_DIR, 'suites')
KDIR = os.path.join(CONF_DIR, 'kunit')
# The make test kernel's config fragments: the sanitizer lane
# (harness/kunit/debug.config) and every other *.config of KDIR (the peer
# suites, the kselftests' needs).
HARNESS_CONFIGS = [os.path.join(HARNESS, 'kunit', 'debug.config')]
HARNESS_CONFIGS += sorted(os.path.join(KDIR, f) for f in os.listdir(KDIR)
			  if f.endswith('.config') and f != 'debug.config')
# Config fragments in the tree (paths in it): the base's .kunitconfig files
# and the config of the kselftests the guest runs (harness/selftests.py).
with open(os.path.join(KDIR, 'kunitconfigs')) as _f:
	SELFTEST_CONFIGS = [l.split('#')[0].strip() for l in _f if l.split('#')[0].strip()]
# The machine (virt, GICv3 ITS, SMMUv3 with substreams, edu with and without
# PASIDs) runs on the project's QEMU (harness/qemu.sh, built by make deps).
QEMU_CONFIG = os.path.join(KDIR, 'qemu_virt_smmuv3.py')
if not os.path.exists(QEMU_CONFIG):
	QEMU_CONFIG = os.path.join(HARNESS, 'kunit', 'qemu_virt_smmuv3.py')
KUNIT_PY = os.path.join(TREE, 'tools', 'testing', 'kunit', 'kunit.py')
CROSS = 'aarch64-linux-gnu-'

# What a kernel prints when something went wrong, whether or not a test noticed.
SPLATS = [
	re.compile(r'\bBUG:'),
	re.compile(r'\bWARNING:'),
	re.compile(r'\bKASAN\b'),
	re.compile(r'\bUBSAN\b'),
	re.compile(r'possible .*locking'),
	re.compile(r'inconsistent lock state'),
	re.compile(r'\bOops\b'),
	# arm64 prints "Call trace:", UML (the generic_pt lane) "Call Trace:".
	re.compile(r'Call [Tt]race:'),
	re.compile(r'Kernel panic'),
	re.compile(r'kmemleak: \d+ new suspected memory leaks'),
]
# The kernel got to the end: kunit_shutdown=reboot with QEMU's -no-reboot,
# or kunit.py's kunit_shutdown=halt on UML.
FINISHED = re.compile(r'reboot: Restarting system|reboot: Power down|reboot: System halted')


_QEMU_ON_PATH = []


def use_project_qemu():
	"""Puts the project's qemu-system-aarch64 first on PATH, where kunit.py
	and the scripts that boot the machine themselves look for it; builds it
	if it is missing (harness/qemu.sh, which make deps runs). Exits with the
	reason if it cannot. Called by what boots the arm64 machine, once; a
	--parse or the UML lane never needs it."""
	if _QEMU_ON_PATH:
		return
	p = subprocess.run([os.path.join(TOP, 'harness', 'qemu.sh'), '--path'],
			   stdout=subprocess.PIPE, text=True, check=False)
	binary = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ''
	if p.returncode or not os.access(binary, os.X_OK):
		sys.exit('the project\'s QEMU is missing and could not be built '
			 '(harness/qemu.sh --path, rc %d): run make deps' % p.returncode)
	os.environ['PATH'] = os.path.dirname(binary) + os.pathsep + os.environ['PATH']
	_QEMU_ON_PATH.append(binary)




def git(*args):
	return subprocess.run(['git', '-C', TREE] + list(args), check=True,
			      capture_output=True, text=True).stdout


def series_kunitconfigs():
	"""Every .kunitconfig the series adds or changes (paths in the tree),
	committed or not yet: make test tests the work tree as it is."""
	names = git('diff', '--name-only', '--diff-filter=AM', 'base').split()
	# New dotfiles are ignored by the kernel's .gitignore until git add -f.
	names += git('ls-files', '--others', '--ignored', '--exclude-standard',
		     '--', '*.kunitconfig').split()
	return sorted(set(n for n in names if os.path.basename(n) == '.kunitconfig'))


def test_configs():
	"""The make test kernel: every series .kunitconfig, the config of the
	guest's kselftests and the sanitizer lane."""
	return series_kunitconfigs() + SELFTEST_CONFIGS + HARNESS_CONFIGS


def kunit_args(build_dir=KUNIT_BUILD, configs=None, arch='arm64'):
	"""kunit.py's arguments for the test machine; by default the make test
	kernel. arch='um': a User Mode Linux kernel, run as a host process."""
	if configs is None:
		configs = test_configs()
	if arch == 'um':
		out = ['--arch=um', '--build_dir=' + build_dir]
	else:
		use_project_qemu()
		out = ['--arch=arm64', '--cross_compile=aarch64-linux-gnu-',
		       '--build_dir=' + build_dir, '--qemu_config=' + QEMU_CONFIG]
	return out + ['--kunitconfig=' + k for k in configs]


def run_logged(cmd, log, timeout=None):
	"""Runs cmd in the tree with output to log; returns (rc, timed_out)."""
	with open(log, 'w') as f:
		try:
			p = subprocess.run(cmd, cwd=TREE, stdout=f, stderr=subprocess.STDOUT,
					   timeout=timeout)
			return p.returncode, False
		except subprocess.TimeoutExpired:
			return -1, True


def tail(path, n=40):
	with open(path, errors='replace') as f:
		return ''.join(f.readlines()[-n:])


def build(jobs, build_dir=KUNIT_BUILD, configs=None, who='test', log='build.log',
	  arch='arm64'):
	"""Builds a kernel with kunit.py; by default the make test kernel."""
	if configs is None:
		configs = test_configs()
	log = os.path.join(LOGS, log)
	cmd = [sys.executable, KUNIT_PY, 'build', '--jobs=%d' % jobs] + \
		kunit_args(build_dir, configs, arch)
	# Series configs are paths in the tree, harness ones absolute.
	shown = [os.path.relpath(c, TOP) if os.path.isabs(c) else c for c in configs]
	print('%s: building the kernel (%s)' % (who, ', '.join(shown)))
	start = time.time()
	rc, _ = run_logged(cmd, log)
	if rc:
		print(tail(log, 60))
		print('%s: kernel build failed; full log in %s' % (who, log))
		return False
	print('%s: built in %ds' % (who, time.time() - start))
	return True


def parse(log):
	"""kunit.py's own KTAP parser, on the console log; it prints each case."""
	sys.path.insert(0, os.path.dirname(KUNIT_PY))
	import kunit_parser  # pylint: disable=import-outside-toplevel
	with open(log, errors='replace') as f:
		lines = f.readlines()
	# 7.3's parser prints through a Printer it is given; 6.12's has one.
	if len(inspect.signature(kunit_parser.parse_run_tests).parameters) > 1:
		import kunit_printer  # pylint: disable=import-outside-toplevel
		result = kunit_parser.parse_run_tests(lines, kunit_printer.stdout)
	else:
		result = kunit_parser.parse_run_tests(lines)
	return result, lines, kunit_parser.TestStatus


def splat_check(lines, width):
	"""The kernel log's verdict: None, after printing its PASS line in a
	column @width wide, or the problem to report."""
	splats = [l.rstrip() for l in lines if any(r.search(l) for r in SPLATS)]
	if splats:
		return 'kernel log has %d splat line(s), first ones:\n  %s' % (
			len(splats), '\n  '.join(splats[:15]))
	print('%-*s %-8s %s' % (width, 'kernel log', 'PASS', 'no splat'))
	return None


def summary(passed, failed, skipped):
	"""The last line; skipped cases are counted as failed: see judge()."""
	line = '%d passed, %d failed' % (passed, failed + skipped)
	if skipped:
		line += ' (%d of them skipped)' % skipped
	print(line)
	return failed + skipped == 0



def machine():
	"""The QEMU machine of the kunit.py config (its kernel path, command
	line and parameters), for the scripts that boot it themselves."""
	sys.path.insert(0, os.path.dirname(KUNIT_PY))
	import kunit_kernel  # pylint: disable=import-outside-toplevel
	use_project_qemu()
	_, ops = kunit_kernel._get_qemu_ops(QEMU_CONFIG, None, CROSS)  # pylint: disable=protected-access
	return ops
