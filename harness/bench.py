#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: build a kernel without debugging options holding the
iommu_aux_bench KUnit suite, boot it on the test machine (QEMU virt, SMMUv3,
edu) BENCH_BOOTS times (5, an odd number), and print one table of ratios,
each measured in the same run with its two sides alternating. Not part of
make test: under emulation absolute times mean little, and the claims are
the ratios.

Why several boots: within a boot the rounds agree closely (the A/A line's
interval is about +-0.001), but from one boot to the next a row's median can
move by more than that (the A/A line's by up to 0.06 on the SMMUv3):
where QEMU's and the kernel's objects land differs from boot to boot, and
under TCG that costs one side more than the other. So a row's median is the
median of its boots' medians, and the verdict is on it; the table gives
their range, and, of the boot that gave that median, the 95% interval over
its rounds and the ratio of the two sides' total times (which keeps the
rare slow operations that the median of short rounds leaves out).

The table also goes to build/logs/bench.md. The run fails if a bench case
fails or is skipped (an operation failed, or the machine lacks the edu
devices the suite borrows), if the suite does not finish, or if the kernel
log has a splat; and so does every row on a real IOMMU driver (the
emulated SMMUv3) whose median is over its target, and row 2 if one of its
sides does not end in exactly one IOTLB sync as the mock counts them. The
mock's rows are printed beside the SMMUv3's, not judged. Each row names
the IOMMU it ran on, whether it is a result, a guard that holds by
construction or the design a result replaced. It ends with "N passed, M
failed": the cases (of every boot), the rows against their targets, the
sync counts, and the kernel logs.
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
	  'total', 'target', 'verdict']
# The rows name the IOMMU driver that translated; the machine's is QEMU's.
IOMMU = {'mock': 'mock IOMMU', 'arm-smmu-v3': 'emulated SMMUv3'}
# The PCI devices the suite borrows for its rows on the SMMUv3: the two edu
# devices of harness/kunit/qemu_virt_smmuv3.py, in the slots QEMU gives them
# in the order it adds them (without PASIDs, then with).
DEVICES = '0000:00:01.0,0000:00:02.0'
KIND = {'guard': 'guard (by construction)', 'result': 'result',
	'before': 'before (the design replaced)', 'noise': 'A/A (the noise, no target)'}
# Rows whose one operation must end in exactly one IOTLB sync, on each side
ONE_SYNC = ('2',)
BOOTS = int(os.environ.get('BENCH_BOOTS', '5'))


def combine(boots):
	"""One row (a dict of FIELDS, and 'boots', the range of the boots'
	medians) of the same row's fields in each boot: the fields of the boot
	whose median is the median of their medians (its sides' ns, its 95%
	interval over its rounds, its ratio of totals), and the verdict on
	that median."""
	rows = sorted((dict(zip(FIELDS, r)) for r in boots), key=lambda f: float(f['med']))
	f = dict(rows[len(rows) // 2])
	f['boots'] = '%s - %s' % (rows[0]['med'], rows[-1]['med'])
	if f['verdict'] != '-':
		f['verdict'] = 'ok' if float(f['med']) <= float(f['target']) else 'MISSED'
	return f


def key(fields):
	"""What names a row: its number, what it times, and its IOMMU."""
	return tuple(fields[:3])


def table(boots):
	"""The rows (dicts of fields, those missing from a boot or twice in one
	with their verdict saying so), the first boot's sync counts, and the
	table's text, of the kernel logs (lists of lines) of the boots."""
	per_boot = [[BENCH.search(l).group(1).split('|') for l in lines if BENCH.search(l)]
		    for lines in boots]
	keys = []
	for rs in per_boot:
		keys += [key(r) for r in rs if key(r) not in keys]
	rows = []
	for k in keys:
		same = [r for rs in per_boot for r in rs if key(r) == k]
		counts = [sum(key(r) == k for r in rs) for rs in per_boot]
		if counts == [1] * len(boots):
			rows.append(combine(same))
		else:
			rows.append(dict(zip(FIELDS, same[0]), boots='-',
					 verdict='once in %d of %d boots' % (counts.count(1), len(boots))))
	sync = [SYNC.search(l).groups() for l in boots[0] if SYNC.search(l)]
	lines = boots[0]
	scale = [SCALE.search(l).groups() for l in lines if SCALE.search(l)]
	mem = [MEM.search(l).groups() for l in lines if MEM.search(l)]
	out = ['| row | what | IOMMU | kind | A | A ns | B | B ns | B/A median '
	       '| 95% interval | boots\' medians | B/A of totals | target | |',
	       '|---|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|']
	for f in rows:
		f = dict(f)
		f['iommu'] = IOMMU.get(f['iommu'], f['iommu'])
		if f['kind'] == 'noise':
			f['target'] = '-'
		f['kind'] = KIND.get(f['kind'], f['kind'])
		out.append('| {row} | {what} | {iommu} | {kind} | {a} | {a_ns} | {b} | {b_ns} '
			   '| {med} | {lo} - {hi} | {boots} | {total} | {target} | {verdict} |'.format(
				   **dict(f, target=f['target'] if f['target'] == '-'
					  else '<= ' + f['target'])))
	out.append('')
	out.append('The targets are judged on the emulated SMMUv3; the mock IOMMU\'s rows, '
		   'whose invalidations cost nothing, are a second column. The A/A line '
		   'times one side against itself as the rows are timed: how far from 1 '
		   'this machine\'s noise alone puts a median, in the same run. Each row\'s '
		   'median is the median of its medians in %d boots (their range beside '
		   'it), with the 95%% interval over the rounds, and the ratio of the two '
		   'sides\' total times, of the boot that gave it.' % len(boots))
	scale_head = ['| IOMMU | live sub-domains | median ns | 97.5% interval |',
		      '|---|---:|---:|---:|']
	scale_fmt = '| %s | %s | %s | %s - %s |'
	if sync:
		out.append('')
		out.append('IOTLB syncs of one operation, as the mock IOMMU counts them (on the '
			   'emulated SMMUv3, iommu_aux_pasid_e2e counts the CMD_SYNCs):')
		out.append('')
		out.append('| row | what | A side | B side |')
		out.append('|---|---|---:|---:|')
		for s in sync:
			out.append('| %s | %s | %s | %s |' % s)
		out.append('')
		out.append('(The first boot\'s; every boot\'s must be the same.)')
	if scale:
		out.append('')
		out.append('Row 4, per operation (alloc + map 4 KiB + free) against live '
			   'sub-domains, in the first boot:')
		out.append('')
		out += scale_head
		for s in scale:
			s = (IOMMU.get(s[0], s[0]),) + s[1:]
			out.append(scale_fmt % s)
	ref = [REF.search(l).groups() for l in lines if REF.search(l)]
	if ref:
		out.append('')
		out.append('For reference, in the first boot: ' +
			   '; '.join('%s %s ns' % r for r in ref) + '.')
	for iommu, count, size in mem:
		out.append('')
		out.append('Memory per live sub-domain with 4 KiB mapped, %s: %s bytes '
			   '(free memory before and after %s more).' %
			   (IOMMU.get(iommu, iommu), size, count))
	return rows, sync, '\n'.join(out)


def boot(n):
	"""Boots the bench kernel once, as boot @n; returns (timed_out, log path)."""
	log = os.path.join(kl.LOGS, 'bench.%d.log' % n)
	print('bench: boot %d of %d: QEMU virt + SMMUv3 + edu' % (n, BOOTS))
	start = time.time()
	cmd = [sys.executable, kl.KUNIT_PY, 'exec', '--raw_output=all', '--timeout=900'] + \
		kl.kunit_args(BENCH_BUILD, [BENCH_CONFIG]) + \
		['--kernel_args=iommu_aux_bench.devices=' + DEVICES, 'iommu_aux_bench']
	_, timed_out = kl.run_logged(cmd, log, timeout=960)
	print('bench: ran in %ds; console log in %s' % (time.time() - start, os.path.relpath(log, kl.TOP)))
	return timed_out, log


def main():
	jobs = int(os.environ.get('JOBS', os.cpu_count()))
	os.makedirs(kl.LOGS, exist_ok=True)
	if BOOTS < 1 or BOOTS % 2 == 0:
		print('bench: BENCH_BOOTS must be odd (a median of medians): %d' % BOOTS)
		return 1
	if os.environ.get('NO_BUILD') != '1' and not kl.build(jobs, BENCH_BUILD, [BENCH_CONFIG],
								   'bench', 'bench-build.log'):
		return 1
	bad, boots, cases = [], [], {}
	for n in range(1, BOOTS + 1):
		timed_out, log = boot(n)
		result, lines, status = kl.parse(log)
		boots.append(lines)
		# A case passes if it passed in every boot.
		for suite in result.subtests:
			for case in suite.subtests or [suite]:
				for sub in case.subtests or [case]:
					parts = [suite.name]
					parts += [case.name] if case is not suite else []
					parts += [sub.name] if sub is not case else []
					name = '.'.join(parts)
					if sub.status != status.SUCCESS:
						cases[name] = 'boot %d: %s' % (n, sub.status.name)
					else:
						cases.setdefault(name, None)
		if timed_out or not any(BENCH.search(l) for l in lines):
			bad.append('boot %d: the suite did not finish' % n)
		splat = kl.splat_check(lines, 12)
		if splat:
			bad.append('boot %d: %s' % (n, splat))
	bad += ['%s: %s' % (name, why) for name, why in cases.items() if why]
	passed = sum(why is None for why in cases.values())
	# The kernel logs: one verdict for all the boots.
	if not any('splat' in b for b in bad):
		passed += 1
	rows, sync, text = table(boots)
	print()
	print(text)
	with open(OUT, 'w') as f:
		f.write(text + '\n')
	print('\nbench: table in %s' % os.path.relpath(OUT, kl.TOP))
	# A row over its target fails the run. The "before" and A/A lines
	# ("-") have no target: they show what a design choice replaced, and
	# the noise. The mock's rows are a second column: its invalidations
	# cost nothing, so they show the aux code's own cost; the targets are
	# the SMMUv3's.
	# A row missing from a boot, or twice in one, fails whatever its IOMMU.
	missing = [f for f in rows if f['verdict'].startswith('once in')]
	judged = [f for f in rows if f['iommu'] != 'mock' and f['verdict'] != '-' and
		  f not in missing]
	over = [f for f in judged if f['verdict'] != 'ok']
	bad += ['row {row} {what}, {iommu}: median {med} over {target}'.format(
		**dict(f, iommu=IOMMU.get(f['iommu'], f['iommu']))) for f in over]
	bad += ['row {row} {what}, {iommu}: {verdict}'.format(
		**dict(f, iommu=IOMMU.get(f['iommu'], f['iommu']))) for f in missing]
	passed += len(judged) - len(over)
	for n, lines in enumerate(boots[1:], 2):
		if [SYNC.search(l).groups() for l in lines if SYNC.search(l)] != sync:
			bad.append('boot %d: IOTLB syncs not those of boot 1' % n)
	for row, what, a, b in sync:
		if row in ONE_SYNC:
			if a == b == '1':
				passed += 1
			else:
				bad.append('row %s %s: %s and %s IOTLB syncs, not 1' % (row, what, a, b))
	if bad:
		print('bench: failed:\n  ' + '\n  '.join(bad))
	return 0 if kl.summary(passed, len(bad), 0) else 1


if __name__ == '__main__':
	sys.exit(main())
