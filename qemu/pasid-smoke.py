#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""PASID DMA through the project's SMMUv3 model, without a guest kernel.

Drives qemu-system-aarch64 over qtest: programs the SMMU's stream table, CD
tables and page tables in guest memory by hand, enables the edu device's
PASID capability, and checks that DMA tagged with a PASID reaches the
address space of its CD, that the RID follows S1DSS, that CFGI_CD and TLBI
take effect, and that bad substreams are reported in the event queue with
their SSID.

Usage: qemu/pasid-smoke.py [path/to/qemu-system-aarch64]
(default: the binary harness/qemu.sh --path prints). Exit status 0 when
every check passes.
"""
import os
import struct
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SMMU = 0x09050000
ECAM = 0x3f000000
BAR0 = 0x10000000
RAM = 0x40000000

STRTAB = RAM + 0x100000
CMDQ = RAM + 0x110000
EVTQ = RAM + 0x120000
CDTAB = RAM + 0x130000
L1CDTAB = RAM + 0x131000
L2CDTAB = RAM + 0x132000
PGT = RAM + 0x200000       # page table pages from here, 4KB each
DATA = RAM + 0x400000      # data pages from here

IOVA = 0x10000000
IOVA_OUT = 0x10001000

EVT_NAMES = {0x02: 'C_BAD_STREAMID', 0x04: 'C_BAD_STE', 0x06: 'F_STREAM_DISABLED',
             0x08: 'C_BAD_SUBSTREAMID', 0x09: 'F_CD_FETCH', 0x0a: 'C_BAD_CD',
             0x10: 'F_TRANSLATION', 0x13: 'F_PERMISSION'}


class QTest:
	def __init__(self, binary, args):
		self.err = tempfile.TemporaryFile(mode='w+')
		self.p = subprocess.Popen([binary] + args + ['-accel', 'qtest', '-qtest', 'stdio',
							     '-qtest-log', '/dev/null'],
					  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
					  stderr=self.err, text=True)

	def cmd(self, line):
		self.p.stdin.write(line + '\n')
		self.p.stdin.flush()
		while True:
			out = self.p.stdout.readline()
			if not out:
				self.err.seek(0)
				raise RuntimeError('qemu exited: ' + self.err.read())
			if out.startswith('OK') or out.startswith('FAIL') or out.startswith('ERR'):
				break
		if not out.startswith('OK'):
			raise RuntimeError('%s -> %s' % (line, out.strip()))
		return out.split()[1] if len(out.split()) > 1 else None

	def r32(self, a):
		return int(self.cmd('readl 0x%x' % a), 16)

	def w32(self, a, v):
		self.cmd('writel 0x%x 0x%x' % (a, v))

	def w64(self, a, v):
		self.cmd('writeq 0x%x 0x%x' % (a, v))

	def write(self, a, data):
		self.cmd('write 0x%x 0x%x 0x%s' % (a, len(data), data.hex()))

	def read(self, a, n):
		return bytes.fromhex(self.cmd('read 0x%x 0x%x' % (a, n))[2:])

	def step(self, ns):
		self.cmd('clock_step %d' % ns)

	def close(self):
		self.p.kill()
		self.p.wait()


class Rig:
	def __init__(self, q):
		self.q = q
		self.next_pgt = PGT
		self.cmd_prod = 0
		self.evt_cons = 0
		self.sid = None
		self.cfg = None

	# PCI: find edu (1234:11e8) on bus 0, BAR0, memory + bus master, PASID on
	def setup_pci(self, width=8):
		for devfn in range(0, 256, 8):
			cfg = ECAM + (devfn << 12)
			if self.q.r32(cfg) == 0x11e81234:
				break
		else:
			raise RuntimeError('edu not found on bus 0')
		self.sid, self.cfg = devfn, cfg
		self.q.w32(cfg + 0x10, BAR0)
		self.q.w32(cfg + 0x04, 0x6)
		hdr = self.q.r32(cfg + 0x100)
		assert hdr & 0xffff == 0x1b, 'no PASID capability at 0x100: 0x%x' % hdr
		pcap = self.q.r32(cfg + 0x104) & 0xffff
		assert (pcap >> 8) & 0x1f == width, 'Max PASID Width 0x%x' % pcap
		self.q.w32(cfg + 0x104, 1 << 16)     # PASID Enable
		exp = self.q.r32(cfg + 0x80)
		assert exp & 0xff == 0x10 and (exp >> 20) & 0xf == 9, 'not an RCiEP: 0x%x' % exp

	# Page tables: 4KB granule, 48-bit input, level 0 start
	def new_table(self):
		a = self.next_pgt
		self.next_pgt += 0x1000
		self.q.write(a, bytes(0x1000))
		return a

	def map_page(self, root, iova, pa):
		table = root
		for level in range(3):
			idx = (iova >> (39 - 9 * level)) & 0x1ff
			desc = struct.unpack('<Q', self.q.read(table + idx * 8, 8))[0]
			if not desc & 1:
				nt = self.new_table()
				desc = nt | 3
				self.q.write(table + idx * 8, struct.pack('<Q', desc))
			table = desc & 0xfffffffff000
		idx = (iova >> 12) & 0x1ff
		# page, AF, AP = 0b01 (read/write, unprivileged too)
		self.q.write(table + idx * 8, struct.pack('<Q', pa | 3 | (1 << 10) | (1 << 6)))
		return table + idx * 8

	@staticmethod
	def cd(ttb0, asid, valid=True):
		w = [0] * 16
		w[0] = 16 | (1 << 30) | ((1 << 31) if valid else 0)   # T0SZ 16, TG0 4K, EPD1
		w[1] = 5 | (1 << 3) | (1 << 9) | (1 << 13) | (1 << 14) | (asid << 16)  # IPS 48, AFFD, AA64, R, A
		w[2] = ttb0 & 0xfffffff0
		w[3] = ttb0 >> 32
		return struct.pack('<16I', *w)

	def write_ste(self, ctxptr, s1cdmax, s1fmt=0, s1dss=2):
		w = [0] * 16
		w[0] = 1 | (0x5 << 1) | (s1fmt << 4) | (ctxptr & 0xffffffc0)
		w[1] = (ctxptr >> 32) | (s1cdmax << 27)
		w[2] = s1dss
		self.q.write(STRTAB + self.sid * 64, struct.pack('<16I', *w))

	def command(self, w):
		self.q.write(CMDQ + (self.cmd_prod & 0xf) * 16, struct.pack('<4I', *w))
		self.cmd_prod = (self.cmd_prod + 1) & 0x1f
		self.q.w32(SMMU + 0x98, self.cmd_prod)
		gerror = self.q.r32(SMMU + 0x60)
		assert not gerror, 'GERROR 0x%x' % gerror

	def cfgi_ste(self):
		self.command([0x03, self.sid, 1, 0])
		self.command([0x46, 0, 0, 0])

	def cfgi_cd(self, ssid):
		self.command([0x05 | (ssid << 12), self.sid, 1, 0])
		self.command([0x46, 0, 0, 0])

	def tlbi_va(self, asid, iova):
		self.command([0x12, asid << 16, (iova & 0xfffff000) | 1, iova >> 32])
		self.command([0x46, 0, 0, 0])

	def setup_smmu(self):
		q = self.q
		q.write(STRTAB, bytes(256 * 64))
		q.w64(SMMU + 0x80, STRTAB)
		q.w32(SMMU + 0x88, 8)                       # linear, 256 STEs
		q.w64(SMMU + 0x90, CMDQ | 4)                # 16 commands
		q.w32(SMMU + 0x98, 0)
		q.w32(SMMU + 0x9c, 0)
		q.w64(SMMU + 0xa0, EVTQ | 4)                # 16 events
		q.w32(SMMU + 0x100a8, 0)
		q.w32(SMMU + 0x100ac, 0)
		q.w32(SMMU + 0x20, 0xd)                     # SMMUEN, EVENTQEN, CMDQEN
		assert q.r32(SMMU + 0x24) == 0xd

	def events(self):
		"""The events recorded since the last call. A failed DMA records one
		per access QEMU splits it into (4 bytes each here)."""
		out = []
		prod = self.q.r32(SMMU + 0x100a8)
		while (self.evt_cons & 0x1f) != (prod & 0x1f):
			w = struct.unpack('<8I', self.q.read(EVTQ + (self.evt_cons & 0xf) * 32, 32))
			out.append((EVT_NAMES.get(w[0] & 0xff, hex(w[0] & 0xff)), w[1],
				    (w[0] >> 12) if w[0] & (1 << 11) or (w[0] & 0xff) == 0x08 else None))
			self.evt_cons = (self.evt_cons + 1) & 0x1f
		self.q.w32(SMMU + 0x100ac, self.evt_cons)
		return out

	def dma(self, pasid, src, dst, to_device):
		"""One edu transfer; returns its result register (0: completed)."""
		q = self.q
		q.w32(BAR0 + 0xa0, 0 if pasid is None else (pasid | (1 << 31)))
		q.w64(BAR0 + 0x80, src)
		q.w64(BAR0 + 0x88, dst)
		q.w64(BAR0 + 0x90, 16)
		q.w64(BAR0 + 0x98, 1 | (0 if to_device else 2))
		q.step(200 * 1000 * 1000)
		assert q.r32(BAR0 + 0x98) & 1 == 0, 'DMA still running'
		return q.r32(BAR0 + 0xa4)

	def one_cd(self, ssid, s1cdmax, fill):
		"""A linear CD table whose one valid CD, at @ssid, maps IOVA to a
		page of @fill and IOVA_OUT to a zeroed page."""
		root = self.new_table()
		self.q.write(DATA, fill * 16)
		self.q.write(DATA + 0x1000, bytes(16))
		self.map_page(root, IOVA, DATA)
		self.map_page(root, IOVA_OUT, DATA + 0x1000)
		self.q.write(CDTAB + ssid * 64, Rig.cd(root, asid=ssid))
		self.write_ste(CDTAB, s1cdmax=s1cdmax)
		self.cfgi_ste()

	def reaches_one_cd(self, ssid, fill):
		"""A round trip at @ssid through one_cd()'s tables: (ok, detail)."""
		r = self.roundtrip(ssid)
		return r == (0, 0) and self.q.read(DATA + 0x1000, 16) == fill * 16, 'results %s' % (r,)

	def roundtrip(self, pasid):
		"""IOVA -> edu buffer -> IOVA_OUT, both at @pasid; returns the bytes at IOVA_OUT's page."""
		r1 = self.dma(pasid, IOVA, 0x40000, True)
		r2 = self.dma(pasid, 0x40000, IOVA_OUT, False) if r1 == 0 else None
		return r1, r2


MACHINE = ['-M', 'virt,iommu=smmuv3,gic-version=3,highmem=off', '-m', '512',
	   '-nodefaults', '-display', 'none']


def linear_only(binary, check):
	"""ssidsize=16 with cd2l=off and an edu of PASID width 16: substreams
	with linear CD tables only."""
	q = QTest(binary, MACHINE + ['-global', 'arm-smmuv3.ssidsize=16',
				     '-global', 'arm-smmuv3.cd2l=off',
				     '-device', 'edu,pasid=on,x-pasid-width=16,dma_mask=0xffffffffffffffff'])
	try:
		idr0, idr1 = q.r32(SMMU), q.r32(SMMU + 4)
		check('cd2l=off: IDR0.CD2L 0, IDR1.SSIDSIZE 16',
		      not idr0 & (1 << 19) and (idr1 >> 6) & 0x1f == 16,
		      'IDR0 0x%x IDR1 0x%x' % (idr0, idr1))
		rig = Rig(q)
		rig.setup_pci(width=16)
		rig.setup_smmu()
		rig.one_cd(200, s1cdmax=16, fill=b'W')
		check('cd2l=off: PASID 200 reaches CD 200 of a linear table',
		      *rig.reaches_one_cd(200, b'W'))
		r = rig.dma(256, IOVA, 0x40000, True)
		check('x-pasid-width=16: PASID 256 refused (MemTxAttrs.pid has 8 bits)',
		      r == 1 << 31 and rig.events() == [], 'result 0x%x' % r)
		rig.write_ste(CDTAB, s1cdmax=16, s1fmt=1)
		rig.cfgi_ste()
		r = rig.dma(200, IOVA, 0x40000, True)
		ev = rig.events()
		check('cd2l=off: a 2-level S1FMT is C_BAD_STE', r != 0 and ev and
		      set(e[0] for e in ev) == {'C_BAD_STE'}, 'result 0x%x events %s' % (r, ev))
	finally:
		q.close()


def narrow_width(binary, check):
	"""x-pasid-width=4: PASIDs up to 15 are sent, 16 is refused by the
	device itself, before the SMMU sees it; widths outside 1..20 do not
	realize."""
	q = QTest(binary, MACHINE + ['-global', 'arm-smmuv3.ssidsize=8',
				     '-device', 'edu,pasid=on,x-pasid-width=4,dma_mask=0xffffffffffffffff'])
	try:
		rig = Rig(q)
		rig.setup_pci(width=4)
		rig.setup_smmu()
		rig.one_cd(15, s1cdmax=8, fill=b'N')
		check('x-pasid-width=4: PASID 15 reaches its CD', *rig.reaches_one_cd(15, b'N'))
		r = rig.dma(16, IOVA, 0x40000, True)
		check('x-pasid-width=4: PASID 16 refused by the device, no event',
		      r == 1 << 31 and rig.events() == [], 'result 0x%x' % r)
	finally:
		q.close()
	for width in (0, 21):
		try:
			p = subprocess.run([binary] + MACHINE + ['-accel', 'qtest', '-qtest', 'null',
				'-device', 'edu,pasid=on,x-pasid-width=%d' % width],
				capture_output=True, text=True, timeout=20, input='')
			ok, detail = p.returncode != 0 and 'x-pasid-width' in p.stderr, p.stderr.strip()[:120]
		except subprocess.TimeoutExpired:
			ok, detail = False, 'the machine started'
		check('x-pasid-width=%d does not realize' % width, ok, detail)


def main():
	binary = sys.argv[1] if len(sys.argv) > 1 else subprocess.run(
		[os.path.join(TOP, 'harness', 'qemu.sh'), '--path'], check=True,
		capture_output=True, text=True).stdout.strip()
	q = QTest(binary, MACHINE + ['-global', 'arm-smmuv3.ssidsize=8',
				     '-device', 'edu,pasid=on,dma_mask=0xffffffffffffffff'])
	failed = []
	passed = []

	def check(name, cond, detail=''):
		print('%s %s%s' % ('ok  ' if cond else 'FAIL', name, (': ' + detail) if detail else ''))
		(passed if cond else failed).append(name)

	try:
		rig = Rig(q)
		rig.setup_pci()
		rig.setup_smmu()
		# CD 0 (the RID, S1DSS=SSID0), CD 1 and CD 2 (PASIDs 1, 2), CD 3 invalid
		pages = {}
		roots = {}
		for ssid, fill in ((0, b'R'), (1, b'A'), (2, b'B')):
			root = rig.new_table()
			src = DATA + ssid * 0x2000
			q.write(src, fill * 16)
			q.write(src + 0x1000, bytes(16))
			rig.map_page(root, IOVA, src)
			pte = rig.map_page(root, IOVA_OUT, src + 0x1000)
			pages[ssid] = (src, src + 0x1000, pte)
			roots[ssid] = root
			q.write(CDTAB + ssid * 64, Rig.cd(root, asid=ssid + 1))
		q.write(CDTAB + 3 * 64, Rig.cd(0, asid=9, valid=False))
		rig.write_ste(CDTAB, s1cdmax=3)
		rig.cfgi_ste()

		for pasid, ssid, fill in ((None, 0, b'R'), (1, 1, b'A'), (2, 2, b'B')):
			r = rig.roundtrip(pasid)
			got = q.read(pages[ssid][1], 16)
			check('DMA at %s reaches CD %d' % ('no PASID' if pasid is None else 'PASID %d' % pasid, ssid),
			      r == (0, 0) and got == fill * 16, 'results %s, data %r' % (r, got))
		check('no event after good DMA', rig.events() == [])

		r = rig.dma(3, IOVA, 0x40000, True)
		ev = rig.events()
		check('PASID 3 (invalid CD) faults with C_BAD_CD ssid 3', r != 0 and ev and set(ev) == {('C_BAD_CD', rig.sid, 3)}, 'result 0x%x events %s' % (r, ev))
		r = rig.dma(9, IOVA, 0x40000, True)
		ev = rig.events()
		check('PASID 9 (beyond S1CDMAX 3) faults with C_BAD_SUBSTREAMID ssid 9', r != 0 and ev and set(ev) == {('C_BAD_SUBSTREAMID', rig.sid, 9)}, 'result 0x%x events %s' % (r, ev))

		# IOTLB: clear PASID 1's IOVA PTE; stale until TLBI of its ASID
		q.write(pages[1][2] - (IOVA_OUT - IOVA) // 0x1000 * 8, bytes(8))
		r = rig.dma(1, IOVA, 0x40000, True)
		check('PTE cleared, no TLBI: stale IOTLB entry still used', r == 0, 'result 0x%x' % r)
		rig.tlbi_va(asid=2, iova=IOVA)
		r = rig.dma(1, IOVA, 0x40000, True)
		ev = rig.events()
		check('after TLBI_NH_VA: F_TRANSLATION ssid 1', r != 0 and ev and set(ev) == {('F_TRANSLATION', rig.sid, 1)}, 'result 0x%x events %s' % (r, ev))
		r = rig.dma(2, IOVA, 0x40000, True)
		check('PASID 2 unaffected', r == 0 and rig.events() == [], 'result 0x%x' % r)

		# CFGI_CD: invalidate CD 2 in memory; cached until CFGI_CD ssid 2
		q.write(CDTAB + 2 * 64, Rig.cd(roots[2], asid=3, valid=False))
		r = rig.dma(2, IOVA, 0x40000, True)
		check('CD 2 cleared, no CFGI_CD: cached config still used', r == 0, 'result 0x%x' % r)
		rig.cfgi_cd(1)
		r = rig.dma(2, IOVA, 0x40000, True)
		check('CFGI_CD of ssid 1 leaves ssid 2 cached', r == 0, 'result 0x%x' % r)
		rig.cfgi_cd(2)
		r = rig.dma(2, IOVA, 0x40000, True)
		ev = rig.events()
		check('after CFGI_CD ssid 2: C_BAD_CD ssid 2', r != 0 and ev and set(ev) == {('C_BAD_CD', rig.sid, 2)}, 'result 0x%x events %s' % (r, ev))

		# S1DSS: terminate and bypass for DMA without a PASID
		rig.write_ste(CDTAB, s1cdmax=3, s1dss=0)
		rig.cfgi_ste()
		r = rig.dma(None, IOVA, 0x40000, True)
		ev = rig.events()
		check('S1DSS=terminate: F_STREAM_DISABLED', r != 0 and ev and set(ev) == {('F_STREAM_DISABLED', rig.sid, None)}, 'result 0x%x events %s' % (r, ev))
		rig.write_ste(CDTAB, s1cdmax=3, s1dss=1)
		rig.cfgi_ste()
		q.write(DATA + 0x10000, b'P' * 16)
		r = rig.dma(None, DATA + 0x10000, 0x40000, True), rig.dma(None, 0x40000, DATA + 0x11000, False)
		check('S1DSS=bypass: DMA without PASID is untranslated', r == (0, 0) and q.read(DATA + 0x11000, 16) == b'P' * 16, 'results %s' % (r,))
		rig.events()

		# 2-level CD table, 4KB leaves: SSID 70 = L1 index 1, leaf index 6
		q.write(L1CDTAB, bytes(0x1000))
		q.write(L2CDTAB, bytes(0x1000))
		q.write(L1CDTAB + 8, struct.pack('<Q', L2CDTAB | 1))
		root = rig.new_table()
		q.write(DATA + 0x20000, b'L' * 16)
		q.write(DATA + 0x21000, bytes(16))
		rig.map_page(root, IOVA, DATA + 0x20000)
		rig.map_page(root, IOVA_OUT, DATA + 0x21000)
		q.write(L2CDTAB + 6 * 64, Rig.cd(root, asid=70))
		rig.write_ste(L1CDTAB, s1cdmax=8, s1fmt=1, s1dss=1)
		rig.cfgi_ste()
		r = rig.roundtrip(70)
		check('2-level CD table: PASID 70 reaches its CD', r == (0, 0) and q.read(DATA + 0x21000, 16) == b'L' * 16, 'results %s' % (r,))
		r = rig.dma(5, IOVA, 0x40000, True)
		ev = rig.events()
		check('2-level CD table: invalid L1CD gives C_BAD_SUBSTREAMID ssid 5', r != 0 and ev and set(ev) == {('C_BAD_SUBSTREAMID', rig.sid, 5)}, 'result 0x%x events %s' % (r, ev))

		# PASID Enable clear: the device refuses to send a PASID
		q.w32(rig.cfg + 0x104, 0)
		r = rig.dma(70, IOVA, 0x40000, True)
		check('PASID Enable clear: DMA with a PASID refused', r == 1 << 31 and rig.events() == [], 'result 0x%x' % r)
	finally:
		q.close()
	for extra in (linear_only, narrow_width):
		try:
			extra(binary, check)
		except (AssertionError, RuntimeError) as e:
			check(extra.__name__, False, str(e))
	# The plain closing line that CI adds up.
	print('%d passed, %d failed' % (len(passed), len(failed)))
	return 1 if failed else 0


if __name__ == '__main__':
	sys.exit(main())
