#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make demo: boot the patched kernel on the test machine (QEMU virt, GICv3 ITS,
SMMUv3, edu PCI device) with a small /init, and print its report.

The kernel is the make test kernel with KUnit switched off at boot
(kunit.enable=0); the machine comes from the same kunit.py QEMU config.
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test  # pylint: disable=wrong-import-position

GUEST = os.path.join(test.TOP, 'harness', 'guest')
DEMO = os.path.join(test.BUILD, 'demo')
CROSS = 'aarch64-linux-gnu-'
TIMEOUT = int(os.environ.get('DEMO_TIMEOUT', 600))


def machine():
	"""The QEMU command line of the kunit.py config, without its kernel."""
	sys.path.insert(0, os.path.dirname(test.KUNIT_PY))
	import kunit_kernel  # pylint: disable=import-outside-toplevel
	_, ops = kunit_kernel._get_qemu_ops(test.QEMU_CONFIG, None, CROSS)  # pylint: disable=protected-access
	return ops


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
	os.makedirs(test.LOGS, exist_ok=True)
	if os.environ.get('NO_BUILD') != '1' and not test.build(jobs):
		return 1
	ops = machine()
	cmd = ['qemu-system-' + ops._qemu_arch, '-nodefaults', '-m', '1024', '-nographic',
	       '-no-reboot', '-serial', 'stdio',
	       '-kernel', os.path.join(test.KUNIT_BUILD, ops._kernel_path),
	       '-initrd', initramfs(),
	       '-append', ops._kernel_command_line.replace('kunit_shutdown=reboot', '') +
	       ' kunit.enable=0 rdinit=/init'
	       # A PCI device joins its IOMMU group when a driver binds
	       # (of_dma_configure): let pci-stub claim the edu device.
	       ' pci-stub.ids=1234:11e8'] + ops._extra_qemu_params
	log = os.path.join(test.LOGS, 'demo.log')
	print('demo: booting %s' % ' '.join(cmd[:1] + ops._extra_qemu_params))
	with open(log, 'w') as f:
		try:
			subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
				       timeout=TIMEOUT, check=False)
		except subprocess.TimeoutExpired:
			print('demo: the guest did not power off within %ds; log tail:' % TIMEOUT)
			print(test.tail(log))
			return 1
	with open(log, errors='replace') as f:
		lines = [l.split('DEMO: ', 1)[1].rstrip() for l in f if 'DEMO: ' in l]
	print('\n'.join(lines))
	print('demo: full console log in %s' % os.path.relpath(log, test.TOP))
	return 0 if lines and lines[-1] == 'done' else 1


if __name__ == '__main__':
	sys.exit(main())
