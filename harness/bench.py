#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: build a kernel without debugging options holding the
iommu_aux_bench KUnit suite, boot it on the test machine (QEMU virt, SMMUv3,
edu) and print one table of ratios, each measured in the same run with its
two sides alternating. Not part of make test: under emulation absolute times
mean little, and the claims are the ratios.

The table also goes to build/logs/bench.md. The run fails if a bench case
fails or is skipped (an operation failed, or the machine lacks the edu
devices the suite borrows), if the suite does not finish, or if the kernel
log has a splat; and so does every row on a real IOMMU driver (the
emulated SMMUv3) whose median is over its target, and row 2 if one of its
sides does not end in exactly one IOTLB sync as the mock counts them. The
mock's rows are printed beside the SMMUv3's, not judged. Each row names
the IOMMU it ran on, whether it is a result, a guard that holds by
construction or the design a result replaced, and the 95% interval of the
median ratio. It ends with "N passed, M failed": the cases,
the rows against their targets, the sync counts, and the kernel log.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kunitlib as kl  # pylint: disable=wrong-import-position

BENCH_BUILD = os.path.join(kl.BUILD, 'bench-arm64')
# Outside kunit/, whose configs all go into the make-test kernel.
BENCH_CONFIG = os.path.join(kl.CONF_DIR, 'bench.config')
OUT = os.path.join(kl.LOGS, 'bench.md')
BENCH = re.compile(r'BENCH\|(.*)$')
# BENCHSCALE and BENCHMEM lines name the IOMMU first (and BENCHMEM the
# number of sub-domains the figure is over).
SCALE = re.compile(r'BENCHSCALE\|([a-z0-9-]+)\|(\d+)\|(\d+)\|(\d+)\|(\d+)')
MEM = re.compile(r'BENCHMEM\|([a-z0-9-]+)\|(\d+)\|(-?\d+)')
REF = re.compile(r'BENCHREF\|([^|]+)\|(\d+)')
SYNC = re.compile(r'BENCHSYNC\|([^|]+)\|([^|]+)\|(\d+)\|(\d+)')
# The fields of a BENCH line.
FIELDS = ['row', 'what', 'iommu', 'kind', 'a', 'a_ns', 'b', 'b_ns', 'med', 'lo', 'hi',
	  'target', 'verdict']
# The rows name the IOMMU driver that translated; the machine's is QEMU's.
IOMMU = {'mock': 'mock IOMMU', 'arm-smmu-v3': 'emulated SMMUv3'}
# The PCI devices the suite borrows for its rows on the SMMUv3: the two edu
# devices of harness/kunit/qemu_virt_smmuv3.py, in the slots QEMU gives them
# in the order it adds them (without PASIDs, then with).
DEVICES = '0000:00:01.0,0000:00:02.0'
KIND = {'guard': 'guard (by construction)', 'result': 'result',
	'before': 'before (the design replaced)'}
# Rows whose one operation must end in exactly one IOTLB sync, on each side
ONE_SYNC = ('2',)


def table(lines):
	"""The rows (lists of fields) and the table's text."""
	rows = [BENCH.search(l).group(1).split('|') for l in lines if BENCH.search(l)]
	scale = [SCALE.search(l).groups() for l in lines if SCALE.search(l)]
	mem = [MEM.search(l).groups() for l in lines if MEM.search(l)]
	out = ['| row | what | IOMMU | kind | A | A ns | B | B ns | B/A median '
	       '| 95% interval | target | |',
	       '|---|---|---|---|---|---:|---|---:|---:|---:|---:|---|']
	for r in rows:
		f = dict(zip(FIELDS, r))
		f['iommu'] = IOMMU.get(f['iommu'], f['iommu'])
		f['kind'] = KIND.get(f['kind'], f['kind'])
		out.append('| {row} | {what} | {iommu} | {kind} | {a} | {a_ns} | {b} | {b_ns} '
			   '| {med} | {lo} - {hi} | <= {target} | {verdict} |'.format(**f))
	out.append('')
	out.append('The targets are judged on the emulated SMMUv3; the mock IOMMU\'s rows, '
		   'whose invalidations cost nothing, are a second column.')
	scale_head = ['| IOMMU | live sub-domains | median ns | 97.5% interval |',
		      '|---|---:|---:|---:|']
	scale_fmt = '| %s | %s | %s | %s - %s |'
	sync = [SYNC.search(l).groups() for l in lines if SYNC.search(l)]
	if sync:
		out.append('')
		out.append('IOTLB syncs of one operation, as the mock IOMMU counts them (on the '
			   'emulated SMMUv3, iommu_aux_pasid_e2e counts the CMD_SYNCs):')
		out.append('')
		out.append('| row | what | A side | B side |')
		out.append('|---|---|---:|---:|')
		for s in sync:
			out.append('| %s | %s | %s | %s |' % s)
	if scale:
		out.append('')
		out.append('Row 4, per operation (alloc + map 4 KiB + free) against live sub-domains:')
		out.append('')
		out += scale_head
		for s in scale:
			s = (IOMMU.get(s[0], s[0]),) + s[1:]
			out.append(scale_fmt % s)
	ref = [REF.search(l).groups() for l in lines if REF.search(l)]
	if ref:
		out.append('')
		out.append('For reference, in the same run: ' +
			   '; '.join('%s %s ns' % r for r in ref) + '.')
	for iommu, count, size in mem:
		out.append('')
		out.append('Memory per live sub-domain with 4 KiB mapped, %s: %s bytes '
			   '(free memory before and after %s more).' %
			   (IOMMU.get(iommu, iommu), size, count))
	return rows, sync, '\n'.join(out)


def main():
	jobs = int(os.environ.get('JOBS', os.cpu_count()))
	os.makedirs(kl.LOGS, exist_ok=True)
	if os.environ.get('NO_BUILD') != '1' and not kl.build(jobs, BENCH_BUILD, [BENCH_CONFIG],
								   'bench', 'bench-build.log'):
		return 1
	log = os.path.join(kl.LOGS, 'bench.log')
	print('bench: booting QEMU virt + SMMUv3 + edu')
	start = time.time()
	cmd = [sys.executable, kl.KUNIT_PY, 'exec', '--raw_output=all', '--timeout=900'] + \
		kl.kunit_args(BENCH_BUILD, [BENCH_CONFIG]) + \
		['--kernel_args=iommu_aux_bench.devices=' + DEVICES, 'iommu_aux_bench']
	_, timed_out = kl.run_logged(cmd, log, timeout=960)
	print('bench: ran in %ds; console log in %s' % (time.time() - start, os.path.relpath(log, kl.TOP)))

	result, lines, status = kl.parse(log)
	bad, passed = [], 0
	for suite in result.subtests:
		for case in suite.subtests or [suite]:
			for sub in case.subtests or [case]:
				if sub.status != status.SUCCESS:
					bad.append('%s.%s: %s' % (suite.name, sub.name, sub.status.name))
				else:
					passed += 1
	rows, sync, text = table(lines)
	print()
	print(text)
	with open(OUT, 'w') as f:
		f.write(text + '\n')
	print('\nbench: table in %s' % os.path.relpath(OUT, kl.TOP))
	if timed_out or not rows:
		bad.append('the suite did not finish')
	# A row over its target fails the run.
	# A "before" row has no target: it shows what a design choice replaced.
	# The mock's rows are a second column: its invalidations cost nothing,
	# so they show the aux code's own cost; the targets are the SMMUv3's.
	judged = [r for r in rows if r[2] != 'mock']
	over = [dict(zip(FIELDS, r)) for r in judged if r[-1] not in ('ok', '-')]
	bad += ['row {row} {what}, {iommu}: median {med} over {target}'.format(
		**dict(f, iommu=IOMMU.get(f['iommu'], f['iommu']))) for f in over]
	passed += len(judged) - len(over)
	for row, what, a, b in sync:
		if row in ONE_SYNC:
			if a == b == '1':
				passed += 1
			else:
				bad.append('row %s %s: %s and %s IOTLB syncs, not 1' % (row, what, a, b))
	splat = kl.splat_check(lines, 12)
	if splat:
		bad.append(splat)
	else:
		passed += 1
	if bad:
		print('bench: failed:\n  ' + '\n  '.join(bad))
	return 0 if kl.summary(passed, len(bad), 0) else 1


if __name__ == '__main__':
	sys.exit(main())
