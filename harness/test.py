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
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kunitlib import (  # pylint: disable=wrong-import-position
	FINISHED, KUNIT_PY, LOGS, SUITES, build, kunit_args, parse,
	run_logged, splat_check, summary, tail)

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


def expected_suites():
	want = {}
	with open(SUITES) as f:
		for line in f:
			line = line.split('#', 1)[0].split()
			if line:
				want[line[0]] = int(line[1])
	return want


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
	if not (args.filter or args.no_selftests):
		# The kselftests: upstream's iommufd ones, and iommu_aux_mdev
		# (not in the 7.3 series of SERIES=next yet).
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
