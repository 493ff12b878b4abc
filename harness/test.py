#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make test: build the series' KUnit kernel for arm64 with kunit.py, boot it on
QEMU virt with an SMMUv3 and the edu PCI device, and judge the run.

The run fails on a failed, crashed or missing suite (harness/suites lists the
suites that must run and their least number of cases), on a hang, and on any
kernel splat in the log even when every test passed. Then, unless a filter is
given, it boots the same kernel again to run the kselftests of
tools/testing/selftests/iommu in the guest (harness/selftests.py: upstream's
iommufd selftests and the series' iommu_aux_mdev) and adds their counts.
The last line printed is "N passed, M failed"; a skipped case counts as
failed.
"""

import argparse
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# SERIES=next tests the series in next/ (the move to 7.3) in build/next/,
# beside the product series; as harness/lib.sh does.
SERIES = os.environ.get('SERIES', '')
SERIES_DIR = os.path.join(TOP, SERIES) if SERIES else TOP
BUILD = os.environ.get('BUILD', os.path.join(TOP, 'build', SERIES) if SERIES else
		       os.path.join(TOP, 'build'))
TREE = os.path.join(BUILD, 'linux')
KUNIT_BUILD = os.path.join(BUILD, 'kunit-arm64')
LOGS = os.path.join(BUILD, 'logs')
QEMU_CONFIG = os.path.join(TOP, 'harness', 'kunit', 'qemu_virt_smmuv3.py')
HARNESS_CONFIGS = [os.path.join(TOP, 'harness', 'kunit', 'debug.config')]
# What the kselftests the guest runs need (harness/selftests.py): their own
# config fragment, a path in the tree.
SELFTEST_CONFIGS = ['tools/testing/selftests/iommu/config']
SUITES = os.path.join(TOP, 'harness', 'suites')
if SERIES:
	# A series folder brings its own suite list and config fragments (the
	# peer suites its base has), and paths in its tree (peers' .kunitconfig).
	SUITES = os.path.join(SERIES_DIR, 'suites')
	KDIR = os.path.join(SERIES_DIR, 'kunit')
	HARNESS_CONFIGS += sorted(os.path.join(KDIR, f) for f in os.listdir(KDIR)
				  if f.endswith('.config'))
	with open(os.path.join(KDIR, 'kunitconfigs')) as _f:
		SELFTEST_CONFIGS = [l.split('#')[0].strip() for l in _f
				    if l.split('#')[0].strip()]
KUNIT_PY = os.path.join(TREE, 'tools', 'testing', 'kunit', 'kunit.py')

# What a kernel prints when something went wrong, whether or not a test noticed.
SPLATS = [
	re.compile(r'\bBUG:'),
	re.compile(r'\bWARNING:'),
	re.compile(r'\bKASAN\b'),
	re.compile(r'\bUBSAN\b'),
	re.compile(r'possible .*locking'),
	re.compile(r'inconsistent lock state'),
	re.compile(r'\bOops\b'),
	re.compile(r'Call trace:'),
	re.compile(r'Kernel panic'),
	re.compile(r'kmemleak: \d+ new suspected memory leaks'),
]
# The kernel got to the end: kunit_shutdown=reboot with QEMU's -no-reboot.
FINISHED = re.compile(r'reboot: Restarting system|reboot: Power down')


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


def kunit_args(build_dir=KUNIT_BUILD, configs=None):
	"""kunit.py's arguments for the test machine; by default the make test
	kernel."""
	if configs is None:
		configs = test_configs()
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


def build(jobs, build_dir=KUNIT_BUILD, configs=None, who='test', log='build.log'):
	"""Builds a kernel with kunit.py; by default the make test kernel."""
	if configs is None:
		configs = test_configs()
	log = os.path.join(LOGS, log)
	cmd = [sys.executable, KUNIT_PY, 'build', '--jobs=%d' % jobs] + kunit_args(build_dir, configs)
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


def boot(args):
	log = os.path.join(LOGS, 'test.log')
	cmd = [sys.executable, KUNIT_PY, 'exec', '--raw_output=all',
	       '--timeout=%d' % args.timeout] + kunit_args()
	for a in args.kernel_args:
		cmd.append('--kernel_args=' + a)
	if args.filter:
		cmd.append(args.filter)
	print('test: booting QEMU virt + SMMUv3 + edu (timeout %ds)' % args.timeout)
	start = time.time()
	_, timed_out = run_logged(cmd, log, timeout=args.timeout + 60)
	print('test: ran in %ds; console log in %s' % (time.time() - start, log))
	return log, timed_out


def parse(log):
	"""kunit.py's own KTAP parser, on the console log; it prints each case."""
	sys.path.insert(0, os.path.dirname(KUNIT_PY))
	import kunit_parser  # pylint: disable=import-outside-toplevel
	with open(log, errors='replace') as f:
		lines = f.readlines()
	try:
		# 6.16+: the parser prints through a Printer of kunit_printer.
		import kunit_printer  # pylint: disable=import-outside-toplevel
		result = kunit_parser.parse_run_tests(lines, kunit_printer.stdout)
	except (ImportError, AttributeError):
		result = kunit_parser.parse_run_tests(lines)
	return result, lines, kunit_parser.TestStatus


def expected_suites():
	want = {}
	with open(SUITES) as f:
		for line in f:
			line = line.split('#', 1)[0].split()
			if line:
				want[line[0]] = int(line[1])
	return want


def splat_check(lines, width):
	"""The kernel log's verdict: None, after printing its PASS line in a
	column @width wide, or the problem to report."""
	splats = [l.rstrip() for l in lines if any(r.search(l) for r in SPLATS)]
	if splats:
		return 'kernel log has %d splat line(s), first ones:\n  %s' % (
			len(splats), '\n  '.join(splats[:15]))
	print('%-*s %-8s %s' % (width, 'kernel log', 'PASS', 'no splat'))
	return None


def judge(log, timed_out):
	"""Prints the table and the problems; returns (passed, failed, skipped)."""
	result, lines, status = parse(log)
	passed = failed = skipped = 0
	problems = []
	seen = {}

	print('\n%-34s %-8s %s' % ('suite', 'result', 'cases (pass/fail/skip)'))
	for suite in result.subtests:
		p = f = s = 0
		for case in suite.subtests or [suite]:
			if case.status == status.SUCCESS:
				p += 1
			elif case.status == status.SKIPPED:
				# The test machine has everything every suite needs:
				# a skip is a test that did not run, never a pass.
				s += 1
				problems.append('%s.%s: skipped' % (suite.name, case.name))
			else:
				f += 1
				problems.append('%s.%s: %s' % (suite.name, case.name, case.status.name))
		if suite.status not in (status.SUCCESS, status.SKIPPED) and f == 0:
			f += 1
			problems.append('%s: %s' % (suite.name, suite.status.name))
		seen[suite.name] = p + f + s
		verdict = 'PASS' if f == 0 and s == 0 else 'FAIL'
		print('%-34s %-8s %d/%d/%d' % (suite.name, verdict, p, f, s))
		passed, failed, skipped = passed + p, failed + f, skipped + s

	for name, least in expected_suites().items():
		if name not in seen:
			failed += 1
			problems.append('%s: suite did not run' % name)
			print('%-34s %-8s' % (name, 'MISSING'))
		elif seen[name] < least:
			failed += 1
			problems.append('%s: %d cases ran, at least %d expected' % (name, seen[name], least))

	finished = any(FINISHED.search(l) for l in lines)
	if timed_out or not finished:
		failed += 1
		problems.append('kernel did not finish (hang or crash); log tail:\n' + tail(log))

	problem = splat_check(lines, 34)
	if problem:
		failed += 1
		problems.append(problem)
	else:
		passed += 1

	if problems:
		print('\nproblems:')
		for p in problems:
			print('  ' + p)
	return passed, failed, skipped


def summary(passed, failed, skipped):
	"""The last line; skipped cases are counted as failed: see judge()."""
	line = '%d passed, %d failed' % (passed, failed + skipped)
	if skipped:
		line += ' (%d of them skipped)' % skipped
	print(line)
	return failed + skipped == 0


def main():
	ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
	ap.add_argument('--jobs', type=int, default=int(os.environ.get('JOBS', os.cpu_count())))
	ap.add_argument('--timeout', type=int, default=int(os.environ.get('TEST_TIMEOUT', 600)))
	ap.add_argument('--kernel-args', action='append', default=[])
	ap.add_argument('--no-build', action='store_true', help='boot what was built last')
	ap.add_argument('--parse', metavar='LOG', help='only judge an existing console log')
	ap.add_argument('--no-selftests', action='store_true',
			help='skip the kselftests in the guest (implied by a filter)')
	ap.add_argument('filter', nargs='?', help='KUnit filter glob (suite.case)')
	args = ap.parse_args()
	os.makedirs(LOGS, exist_ok=True)

	if args.parse:
		return 0 if summary(*judge(args.parse, False)) else 1
	if not args.no_build and not build(args.jobs):
		print('0 passed, 1 failed')
		return 1
	log, timed_out = boot(args)
	passed, failed, skipped = judge(log, timed_out)
	if SERIES:
		print('test: SERIES=%s: no kselftests in the guest yet' % SERIES)
	elif not (args.filter or args.no_selftests):
		# The kselftests: upstream's iommufd ones and iommu_aux_mdev.
		import selftests  # pylint: disable=import-outside-toplevel
		print('\ntest: the kselftests in the guest')
		p, f, problems = selftests.run()
		if problems:
			print('\nproblems:')
			print('\n'.join('  ' + x for x in problems))
		passed, failed = passed + p, failed + f
	return 0 if summary(passed, failed, skipped) else 1


if __name__ == '__main__':
	sys.exit(main())
