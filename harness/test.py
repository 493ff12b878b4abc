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
Then it builds and runs a second kernel, the generic_pt lane (see PT_*
below: User Mode Linux), judged the same way, and adds its counts.
The last line printed is "N passed, M failed"; a skipped case counts as
failed.
"""

import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kunitlib import (  # pylint: disable=wrong-import-position
	BUILD, FINISHED, KDIR, KUNIT_PY, LOGS, SUITES,
	TOP, build, kunit_args, parse, run_logged, splat_check, summary, tail)

# The generic_pt lane (issue 15): the base's
# drivers/iommu/generic_pt/.kunitconfig (10 suites: the amdv1, amdv1_mock,
# vtdss, riscv_64 and x86_64 formats, each a fmt_test and an iommu_test
# suite), with the series applied and the sanitizer lane
# (harness/kunit/debug.config without what UML lacks, PT_SANITIZERS), on a
# User Mode Linux kernel of its own in its own build directory, and judged
# by judge() below against harness/kunit/generic_pt.suites, where a suite
# that ran but is not listed fails the run. Each configuration of a
# parameterized case counts as a case there (judge(leaves=True)), so a
# configuration that skips is seen even when its case passes with another.
#
# Why UML and not the arm64 test machine: the suites test page table
# formats in memory, with no device and no IOMMU, and on QEMU's TCG they
# take most of an hour (measured 2026-12-02: amdv1_iommu_test alone 391 s
# with KASAN, 418 s without; test_random_map checks every 4 KiB page of its
# 1000 random ranges with iommu_iova_to_phys()). UML runs them as a host
# process at native speed, as kunit.py does by default.
PT_KUNITCONFIG = 'drivers/iommu/generic_pt/.kunitconfig'
PT_SUITES = os.path.join(KDIR, 'generic_pt.suites')
PT_BUILD = os.path.join(BUILD, 'kunit-pt-um')
PT_TIMEOUT = int(os.environ.get('PT_TIMEOUT', 900))
DEBUG_CONFIG = os.path.join(TOP, 'harness', 'kunit', 'debug.config')
# The lane's sanitizer set: the options of debug.config it leaves out
# (UML has no hugetlbfs or THP, which only the kselftests' buffers need).
PT_SANITIZERS = ('CONFIG_HUGETLBFS', 'CONFIG_TRANSPARENT_HUGEPAGE')


def boot(args, build_dir=None, configs=None, log='test.log', timeout=None, arch='arm64'):
	"""Boots a built kernel with kunit.py exec; by default the make test
	kernel. Returns (log, timed_out)."""
	log = os.path.join(LOGS, log)
	timeout = timeout or args.timeout
	cmd = [sys.executable, KUNIT_PY, 'exec', '--raw_output=all',
	       '--timeout=%d' % timeout] + (kunit_args(build_dir, configs, arch) if build_dir
					    else kunit_args())
	# --kernel-args are the arm64 test machine's; the UML kernel takes none.
	for a in args.kernel_args if arch != 'um' else []:
		cmd.append('--kernel_args=' + a)
	if args.filter:
		cmd.append(args.filter)
	print('test: %s (timeout %ds)' % ('running the UML kernel' if arch == 'um' else
					  'booting QEMU virt + SMMUv3 + edu', timeout))
	start = time.time()
	_, timed_out = run_logged(cmd, log, timeout=timeout + 60)
	print('test: ran in %ds; console log in %s' % (time.time() - start, log))
	return log, timed_out


def expected_suites(path=SUITES):
	"""{suite: least number of cases} of a suite list; its "n/a" lines are
	not_applicable()'s."""
	want = {}
	with open(path) as f:
		for line in f:
			line = line.split('#', 1)[0].split()
			if line and line[0] != 'n/a':
				want[line[0]] = int(line[1])
	return want


def not_applicable(path):
	"""{suite.case.parameter: reason} of a suite list's lines
	"n/a <suite.case.parameter> <reason>": a case that skips itself, with
	exactly that reason, on any machine and kernel (a by-design skip of the
	test for that configuration). Listed and counted neither way."""
	na = {}
	with open(path) as f:
		for line in f:
			if line.startswith('n/a'):
				_, name, reason = line.rstrip('\n').split(None, 2)
				na[name] = reason.strip()
	return na


# A suite's first and last KTAP lines, after the printk time: the suite
# level is indented 4 spaces in its "# Subtest:" line and not at all in its
# result line.
SUITE_START = re.compile(r'^\[\s*(\d+\.\d+)\]     # Subtest: (\S+)\s*$')
SUITE_END = re.compile(r'^\[\s*(\d+\.\d+)\] (?:not )?ok \d+ (\S+)')


def suite_times(lines):
	"""{suite: seconds} from the printk times of each suite's first and
	last KTAP lines."""
	start, times = {}, {}
	for line in lines:
		m = SUITE_START.match(line)
		if m:
			start[m.group(2)] = float(m.group(1))
			continue
		m = SUITE_END.match(line)
		if m and m.group(2) in start:
			times[m.group(2)] = float(m.group(1)) - start[m.group(2)]
	return times


def judge(log, timed_out, suites=SUITES, leaves=False, only_listed=False):
	"""Prints the table and the problems; returns (passed, failed, skipped).
	leaves: each parameter of a parameterized case counts as a case;
	only_listed: a suite that is not in the list fails."""
	result, lines, status = parse(log)
	passed = failed = skipped = 0
	problems = []
	seen = {}
	na_list = not_applicable(suites)
	na_seen = []
	times = suite_times(lines)

	print('\n%-34s %-8s %-24s %s' % ('suite', 'result', 'cases (pass/fail/skip)', 'time'))
	for suite in result.subtests:
		p = f = s = na = 0
		cases = [(suite.name + '.' + case.name, case)
			 for case in suite.subtests or [suite]]
		if leaves:
			cases = [(name + '.' + param.name, param) if case.subtests else (name, case)
				 for name, case in cases for param in case.subtests or [case]]
		for name, case in cases:
			if case.status == status.SUCCESS and name in na_list:
				# The list says it cannot run: the list is wrong.
				f += 1
				problems.append('%s: passed, but %s lists it as not applicable'
						% (name, os.path.relpath(suites, TOP)))
			elif case.status == status.SUCCESS:
				p += 1
			elif case.status == status.SKIPPED and na_list.get(name) == case.skip_reason:
				# Skips itself by design, with the listed reason.
				na += 1
				na_seen.append('%s: %s' % (name, case.skip_reason))
			elif case.status == status.SKIPPED:
				# The test machine has everything every suite needs:
				# a skip is a test that did not run, never a pass.
				s += 1
				problems.append('%s: skipped: %s' % (name, case.skip_reason))
			else:
				f += 1
				problems.append('%s: %s' % (name, case.status.name))
		if suite.status not in (status.SUCCESS, status.SKIPPED) and f == 0:
			f += 1
			problems.append('%s: %s' % (suite.name, suite.status.name))
		if only_listed and suite.name not in expected_suites(suites):
			f += 1
			problems.append('%s: ran, but %s does not list it' %
					(suite.name, os.path.relpath(suites, TOP)))
		seen[suite.name] = p + f + s + na
		verdict = 'PASS' if f == 0 and s == 0 else 'FAIL'
		t = times.get(suite.name)
		print('%-34s %-8s %-24s %s' % (suite.name, verdict,
					       '%d/%d/%d' % (p, f, s) + (' (%d n/a)' % na if na else ''),
					       '%.0fs' % t if t is not None else '?'))
		passed, failed, skipped = passed + p, failed + f, skipped + s

	for name, least in expected_suites(suites).items():
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

	if na_seen:
		print('\nnot applicable (the case skips itself by design for this '
		      'configuration, with the reason listed in %s), counted neither way:'
		      % os.path.relpath(suites, TOP))
		print('\n'.join('  ' + x for x in na_seen))
	if problems:
		print('\nproblems:')
		for p in problems:
			print('  ' + p)
	return passed, failed, skipped


def pt_configs():
	"""The generic_pt lane's kernel: the generic_pt .kunitconfig and the
	sanitizer lane as PT_SANITIZERS says."""
	fragment = os.path.join(LOGS, 'generic_pt-sanitizers.config')
	with open(DEBUG_CONFIG) as f:
		keep = [l for l in f if l.split('=', 1)[0].strip() not in PT_SANITIZERS]
	with open(fragment, 'w') as f:
		f.write('# harness/kunit/debug.config, as test.py\'s PT_SANITIZERS says\n')
		f.write(''.join(keep))
		# The printk times judge() reads each suite's time from.
		f.write('CONFIG_PRINTK_TIME=y\n')
	return [PT_KUNITCONFIG, fragment]


def generic_pt(args):
	"""Builds (unless --no-build), runs and judges the generic_pt lane;
	returns (passed, failed, skipped)."""
	print('\ntest: the generic_pt lane (%s on UML, %s)' %
	      (PT_KUNITCONFIG, os.path.relpath(PT_SUITES, TOP)))
	configs = pt_configs()
	if not args.no_build and not build(args.jobs, PT_BUILD, configs, 'test: generic_pt',
					   'build-generic_pt.log', 'um'):
		return 0, 1, 0
	log, timed_out = boot(args, PT_BUILD, configs, 'test-generic_pt.log', PT_TIMEOUT, 'um')
	return judge(log, timed_out, PT_SUITES, leaves=True, only_listed=True)


def main():
	ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
	ap.add_argument('--jobs', type=int, default=int(os.environ.get('JOBS', os.cpu_count())))
	ap.add_argument('--timeout', type=int, default=int(os.environ.get('TEST_TIMEOUT', 600)))
	ap.add_argument('--kernel-args', action='append', default=[])
	ap.add_argument('--no-build', action='store_true', help='boot what was built last')
	ap.add_argument('--parse', metavar='LOG', help='only judge an existing console log')
	ap.add_argument('--parse-generic-pt', metavar='LOG',
			help='only judge an existing console log of the generic_pt lane')
	ap.add_argument('--no-selftests', action='store_true',
			help='skip the kselftests in the guest (implied by a filter)')
	ap.add_argument('--no-generic-pt', action='store_true',
			help='skip the generic_pt lane (implied by a filter)')
	ap.add_argument('--generic-pt-only', action='store_true',
			help='run only the generic_pt lane')
	ap.add_argument('filter', nargs='?', help='KUnit filter glob (suite.case)')
	args = ap.parse_args()
	os.makedirs(LOGS, exist_ok=True)
	lane = not (args.filter or args.no_generic_pt)

	if args.parse:
		return 0 if summary(*judge(args.parse, False)) else 1
	if args.parse_generic_pt:
		return 0 if summary(*judge(args.parse_generic_pt, False, PT_SUITES, True, True)) else 1
	if args.generic_pt_only:
		return 0 if summary(*generic_pt(args)) else 1
	if not args.no_build and not build(args.jobs):
		print('0 passed, 1 failed')
		return 1
	log, timed_out = boot(args)
	passed, failed, skipped = judge(log, timed_out)
	if not (args.filter or args.no_selftests):
		# The kselftests: upstream's iommufd ones, and iommu_aux_mdev.
		import selftests  # pylint: disable=import-outside-toplevel
		print('\ntest: the kselftests in the guest')
		p, f, problems = selftests.run()
		if problems:
			print('\nproblems:')
			print('\n'.join('  ' + x for x in problems))
		passed, failed = passed + p, failed + f
	if lane:
		p, f, s = generic_pt(args)
		passed, failed, skipped = passed + p, failed + f, skipped + s
	return 0 if summary(passed, failed, skipped) else 1


if __name__ == '__main__':
	sys.exit(main())
