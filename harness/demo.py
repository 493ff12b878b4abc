#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make demo: boot the patched kernel on the test machine (QEMU virt, GICv3 ITS,
SMMUv3, edu PCI device) and print what happens to the edu device's MSIs, DMA
and SMMU faults: the problem (a plain paging domain attached after the MSI
was set up loses it) and the fix (an aux domain, in every order); on a
machine whose SMMUv3 has substreams and whose edu has PASIDs (the 7.3
series on the project's QEMU), also the sub-domains: DMA at each one's
PASID, the accesses the SMMU refuses, and the RID's MSIs beside them.

The kernel is the make test kernel. At boot it runs only the end-to-end KUnit
suites (iommu_aux_e2e, and iommu_aux_pasid_e2e where the series has it), which
drive the edu sample driver and report each scenario; then a small /init
prints the devices' IOMMU state and powers off. The machine comes from the
same kunit.py QEMU config.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kunitlib as kl  # pylint: disable=wrong-import-position

GUEST = os.path.join(kl.TOP, 'harness', 'guest')
DEMO = os.path.join(kl.BUILD, 'demo')
CROSS = kl.CROSS
TIMEOUT = int(os.environ.get('DEMO_TIMEOUT', 600))


def initramfs():
	os.makedirs(DEMO, exist_ok=True)
	init = os.path.join(DEMO, 'init')
	subprocess.run([CROSS + 'gcc', '-static', '-O2', '-Wall', '-Werror', '-o', init,
			os.path.join(GUEST, 'demo-init.c')], check=True)
	cpio = os.path.join(DEMO, 'demo.cpio')
	with open(cpio, 'wb') as out:
		subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet'], input=b'init\n',
			       cwd=DEMO, stdout=out, check=True)
	return cpio


def main():
	jobs = int(os.environ.get('JOBS', os.cpu_count()))
	os.makedirs(kl.LOGS, exist_ok=True)
	if os.environ.get('NO_BUILD') != '1' and not kl.build(jobs):
		return 1
	ops = kl.machine()
	cmd = ['qemu-system-' + ops._qemu_arch, '-nodefaults', '-m', '1024', '-nographic',
	       '-no-reboot', '-serial', 'stdio',
	       '-kernel', os.path.join(kl.KUNIT_BUILD, ops._kernel_path),
	       '-initrd', initramfs(),
	       '-append', ops._kernel_command_line.replace('kunit_shutdown=reboot', '') +
	       ' kunit.filter_glob=' + SUITES + ' rdinit=/init'] + ops._extra_qemu_params
	log = os.path.join(kl.LOGS, 'demo.log')
	print('demo: booting %s' % ' '.join(cmd[:1] + ops._extra_qemu_params))
	with open(log, 'w') as f:
		try:
			subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
				       timeout=TIMEOUT, check=False)
		except subprocess.TimeoutExpired:
			print('demo: the guest did not power off within %ds; log tail:' % TIMEOUT)
			print(kl.tail(log))
			return 1
	with open(log, errors='replace') as f:
		text = f.readlines()
	print(report(text))
	lines = [l.split('DEMO: ', 1)[1].rstrip() for l in text if 'DEMO: ' in l]
	print('\n'.join(lines))
	print('demo: full console log in %s' % os.path.relpath(log, kl.TOP))
	verdicts = [l for l in text if RESULT.search(l)]
	ok = verdicts and all(RESULT.search(l).group(2) == 'ok' for l in verdicts)
	return 0 if ok and lines and lines[-1] == 'done' else 1


# The suites the demo runs (a KUnit filter glob).
SUITES = 'iommu_aux*e2e'
PASID_SUITE = 'iommu_aux_pasid_e2e'
# "    # case: report: what: n/m MSIs, ..." from the suites, and their verdicts.
REPORT = re.compile(r'# (\w+): report: (.*)$')
SUBTEST = re.compile(r'# Subtest: (iommu_aux\w*e2e)$')
RESULT = re.compile(r'^\[[ 0-9.]+\](\s+)(ok|not ok) \d+ (.+)$')
CONTROL = 'plain_paging_domain_attach_loses_msi'


def report(text):
	"""The suites' report lines: the problem first, then the fix, then the
	sub-domains at their PASIDs, case by case."""
	rows, suite = [], None
	for l in text:
		m = SUBTEST.search(l)
		if m:
			suite = m.group(1)
		m = REPORT.search(l)
		if m:
			rows.append((suite,) + m.groups())
	if not rows:
		return 'demo: the end-to-end suites printed no report'
	out = ['', 'The problem: a paging domain attached over the default domain, the way',
	       'drivers took a device over before aux domains, after the MSI was set up:']
	out += ['  ' + what for s, case, what in rows if case == CONTROL]
	out += ['', 'The fix: an aux domain keeps the RID, and the MSI doorbell, on the default',
		'domain, whatever the order of MSI setup and attach:']
	out += ['  ' + what for s, case, what in rows if case != CONTROL and s != PASID_SUITE]
	pasid = [(case, what) for s, case, what in rows if s == PASID_SUITE]
	if pasid:
		out += ['', 'Sub-domains at their PASIDs (SMMUv3 with substreams, edu with PASIDs):',
			'DMA tagged with each PASID, the accesses the SMMU refuses (its event',
			'record names the SSID), and the RID\'s MSIs and DMA beside them:']
		last = None
		for case, what in pasid:
			if case != last:
				out.append('  ' + case.replace('_', ' ') + ':')
				last = case
			out.append('    ' + what)
	out += ['', 'verdicts:']
	for l in text:
		m = RESULT.search(l)
		if m:
			out.append('  %s%-6s %s' % (m.group(1)[1:], m.group(2), m.group(3).strip()))
	return '\n'.join(out) + '\n'


if __name__ == '__main__':
	sys.exit(main())
