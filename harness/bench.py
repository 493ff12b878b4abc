#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: build a kernel without debugging options holding the
iommu_aux_bench KUnit suite, boot it on the test machine (QEMU virt, SMMUv3,
edu bound to pci-stub) and print one table of ratios, each measured in the
same run with its two sides alternating. Not part of make test: under
emulation absolute times mean little, and the claims are the ratios.

The table also goes to build/logs/bench.md. The run fails if a bench case
fails or is skipped (an operation failed, or the machine lacks the edu
device), not when a ratio misses its target: that is reported.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kunitlib as kl  # pylint: disable=wrong-import-position

BENCH_BUILD = os.path.join(kl.BUILD, 'bench-arm64')
BENCH_CONFIG = os.path.join(kl.TOP, 'harness', 'kunit', 'bench.config')
OUT = os.path.join(kl.LOGS, 'bench.md')
BENCH = re.compile(r'BENCH\|(.*)$')
SCALE = re.compile(r'BENCHSCALE\|(\d+)\|(\d+)\|(\d+)\|(\d+)')
MEM = re.compile(r'BENCHMEM\|(-?\d+)')
REF = re.compile(r'BENCHREF\|([^|]+)\|(\d+)')


def table(lines):
	rows = [BENCH.search(l).group(1).split('|') for l in lines if BENCH.search(l)]
	scale = [SCALE.search(l).groups() for l in lines if SCALE.search(l)]
	mem = [int(MEM.search(l).group(1)) for l in lines if MEM.search(l)]
	out = ['| row | what | A | A ns | B | B ns | B/A median | min | max | target | |',
	       '|---|---|---|---:|---|---:|---:|---:|---:|---:|---|']
	for r in rows:
		out.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s | <= %s | %s |' % tuple(r))
	if scale:
		out.append('')
		out.append('Row 4, per operation (alloc + map 4 KiB + free) against live sub-domains:')
		out.append('')
		out.append('| live sub-domains | median ns | min | max |')
		out.append('|---:|---:|---:|---:|')
		for s in scale:
			out.append('| %s | %s | %s | %s |' % s)
	ref = [REF.search(l).groups() for l in lines if REF.search(l)]
	if ref:
		out.append('')
		out.append('For reference, in the same run: ' +
			   '; '.join('%s %s ns' % r for r in ref) + '.')
	if mem:
		out.append('')
		out.append('Memory per live sub-domain with 4 KiB mapped: %s bytes '
			   '(free memory before and after 4095 more).' % mem[0])
	return rows, '\n'.join(out)


def main():
	jobs = int(os.environ.get('JOBS', os.cpu_count()))
	os.makedirs(kl.LOGS, exist_ok=True)
	if os.environ.get('NO_BUILD') != '1' and not kl.build(jobs, BENCH_BUILD, [BENCH_CONFIG],
								   'bench', 'bench-build.log'):
		return 1
	log = os.path.join(kl.LOGS, 'bench.log')
	print('bench: booting QEMU virt + SMMUv3 + edu')
	start = time.time()
	cmd = [sys.executable, kl.KUNIT_PY, 'exec', '--raw_output=all', '--timeout=900',
	       '--kernel_args=pci-stub.ids=1234:11e8'] + \
		kl.kunit_args(BENCH_BUILD, [BENCH_CONFIG]) + ['iommu_aux_bench']
	_, timed_out = kl.run_logged(cmd, log, timeout=960)
	print('bench: ran in %ds; console log in %s' % (time.time() - start, os.path.relpath(log, kl.TOP)))

	result, lines, status = kl.parse(log)
	bad = []
	for suite in result.subtests:
		for case in suite.subtests or [suite]:
			for sub in case.subtests or [case]:
				if sub.status != status.SUCCESS:
					bad.append('%s.%s: %s' % (suite.name, sub.name, sub.status.name))
	rows, text = table(lines)
	print()
	print(text)
	with open(OUT, 'w') as f:
		f.write(text + '\n')
	print('\nbench: table in %s' % os.path.relpath(OUT, kl.TOP))
	if timed_out or not rows or bad:
		print('bench: failed: %s' % ('; '.join(bad) or 'the suite did not finish'))
		return 1
	missed = [r[0] + ' ' + r[1] for r in rows if r[-1] != 'ok']
	if missed:
		print('bench: %d row(s) missed their target (see README): %s' % (len(missed), '; '.join(missed)))
	return 0


if __name__ == '__main__':
	sys.exit(main())
