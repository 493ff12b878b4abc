#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the kselftests of tools/testing/selftests/iommu in the make test guest:
upstream's iommufd and iommufd_fail_nth, and the series' iommu_aux_mdev (the
VFIO-mdev sample mpasid on aux sub-domains, from user space; its parent is
the machine's edu with pasid=on, which /init hands to mpasid through
driver_override, so its DMA goes through the SMMUv3's CD table). The binaries
are the ones the tree's selftests Makefile lists (TEST_GEN_PROGS). Build them
static for arm64 against the tree's exported UAPI headers (their Makefile
links -lcap: the arm64 libcap.a comes from Debian's libcap-dev for the
host's suite, downloaded under the build folder), put them in an initramfs
next to a small /init, boot the make test kernel (its config has
harness/kunit/selftests.config and the tree's
tools/testing/selftests/iommu/config: CONFIG_IOMMUFD_TEST, VFIO, the mpasid
sample, fault injection, KASAN, lockdep, kmemleak) on the test machine with
KUnit off, and judge the kselftest output and the console log.

The tests' output goes to the machine's second UART (/dev/ttyAMA1, a file
on the host), the kernel's to the first: on one console a printk can land in
the middle of a case's result line. The selftests are the base's own, which
match its kernel: there is no known failure, every case must pass. A case
that fails or is skipped counts as failed, as in kl.py; so does a binary
that did not finish (timeout, crash, no Totals line), a guest that did not
power off, and a kernel splat. The kernel is never built here: it is the
one kl.py built last. The last line printed is "N passed, M failed".
"""

import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kunitlib as kl  # pylint: disable=wrong-import-position

GUEST = os.path.join(kl.TOP, 'harness', 'guest')
ALARM_WRAP = os.path.join(GUEST, 'kselftest-timeout.c')
SRC = os.path.join(kl.TREE, 'tools', 'testing', 'selftests', 'iommu')
# iommu_aux_mdev takes the register layout of the sample it drives from there.
SAMPLE_INC = os.path.join(kl.TREE, 'samples', 'vfio-mdev')
OUT = os.path.join(kl.BUILD, 'selftests')
HDR_OBJ = os.path.join(OUT, 'obj')
HDR = os.path.join(OUT, 'usr')
ROOT = os.path.join(OUT, 'initramfs')
# What the tests print (the second UART), and the kernel's console.
LOG = os.path.join(kl.LOGS, 'selftests.log')
CONSOLE_LOG = os.path.join(kl.LOGS, 'selftests-console.log')
CROSS = kl.CROSS
# tools/testing/selftests/iommu/Makefile and lib.mk, plus -static.
CFLAGS = ['-Wall', '-O2', '-Wno-unused-function', '-D_GNU_SOURCE=', '-static']
MEMORY = os.environ.get('SELFTEST_MEMORY', '2048')
# Extra kernel arguments, e.g. the switch of a mutation under test.
KERNEL_ARGS = os.environ.get('SELFTEST_KERNEL_ARGS', '')
# The kselftest harness's 30 s per case, times this (kselftest-timeout.c).
CASE_TIMEOUT_SCALE = int(os.environ.get('SELFTEST_CASE_TIMEOUT_SCALE', 10))
BOOT_SLACK = 300
# The seconds the guest gives each binary before killing it: about four
# times what it took on a 2-core host (170-270 s, 65-105 s and 5-15 s).
TIMEOUTS = {
	'iommufd': int(os.environ.get('SELFTEST_TIMEOUT', 1200)),
	'iommufd_fail_nth': int(os.environ.get('SELFTEST_TIMEOUT', 600)),
	# edu's DMA engine takes 100 ms a transfer: about 170 of them.
	'iommu_aux_mdev': int(os.environ.get('SELFTEST_TIMEOUT', 300)),
}
TEST_GEN_PROGS = re.compile(r'^TEST_GEN_PROGS \+= (\S+)\s*$', re.M)


def tree_binaries():
	"""[(binary, timeout)] in the order the tree's selftests Makefile lists
	them (TEST_GEN_PROGS): a tree without the series' iommu_aux_mdev (7.3
	before the mpasid port) runs upstream's two. A binary without a timeout
	here gets the longest. No tree yet (--parse, --help): all of TIMEOUTS."""
	try:
		with open(os.path.join(SRC, 'Makefile')) as f:
			names = TEST_GEN_PROGS.findall(f.read())
	except FileNotFoundError:
		names = list(TIMEOUTS)
	return [(n, TIMEOUTS.get(n, max(TIMEOUTS.values()))) for n in names]


BINARIES = tree_binaries()
# SELFTESTS="iommu_aux_mdev" runs only the binaries named, to iterate on one;
# make test and .ci/run leave it unset and run them all.
if os.environ.get('SELFTESTS'):
	BINARIES = [b for b in BINARIES if b[0] in os.environ['SELFTESTS'].split()]

# What the tree's selftests Makefile and lib.mk add to the compiler line,
# read from the tree (7.3's, not 6.12's, have both): the include path of
# kselftest_harness.h's helpers, and the Makefile's LDLIBS.
LIBMK_INCLUDE = re.compile(r'^CFLAGS \+= -I\$\{top_srcdir\}/tools/testing/selftests\s*$', re.M)
LDLIBS = re.compile(r'^LDLIBS \+=(.*)$', re.M)
# Libraries LDLIBS names that the cross toolchain lacks: the Debian package
# whose arm64 build has them, downloaded (never installed) for the host's
# suite, the suite of the cross libc, and extracted under OUT.
ARM64_LIBS = {'-lcap': 'libcap-dev'}
LIBS = os.path.join(OUT, 'arm64-libs')
# A harness that waits for each case with poll() rather than alarm() (7.3's):
# kselftest-timeout.c then scales poll()'s timeouts too.
HARNESS_POLL = re.compile(r'poll\(&\w+, 1, t->timeout \* 1000\)')

MARK = re.compile(r'SELFTEST: (begin|end) (\S+)(?: (.*))?$')
CASE = re.compile(r'^(not ok|ok) \d+ (\S+)(?: # (SKIP|XFAIL|XPASS)\b ?(.*))?$')
TOTALS = re.compile(r'# Totals: pass:(\d+) fail:(\d+) xfail:(\d+) xpass:(\d+) '
		    r'skip:(\d+) error:(\d+)')
CASE_RUN = re.compile(r'^#\s+RUN\s+(\S+) \.\.\.')
CASE_TIMEOUT = re.compile(r'^# \S+: Test terminated by timeout')
# The first failed check of a case: "# /path/iommufd.c:975:case:Expected ...".
CASE_CHECK = re.compile(r'(?:^|\s)\S*/([\w.]+\.[ch]:\d+):(?:\w+:)? ?(.*)$')


def headers():
	"""The tree's UAPI headers, exported under OUT: an O= build writes
	nothing into the tree, and make refuses it if the tree is not clean."""
	log = os.path.join(kl.LOGS, 'selftests-headers.log')
	cmd = ['make', '-C', kl.TREE, 'ARCH=arm64', 'O=' + HDR_OBJ,
	       'INSTALL_HDR_PATH=' + HDR, 'headers_install']
	rc, _ = kl.run_logged(cmd, log)
	if rc:
		print(kl.tail(log))
		print('selftests: headers_install failed; full log in %s' % log)
	return rc == 0


def host_archive():
	"""(mirror, suite) of the host's own Debian sources: the cross libc is
	the host suite's, so its arm64 libraries are too. PAPT_MIRROR, as in
	harness/lib.sh, overrides the mirror."""
	with open('/etc/os-release') as f:
		suite = re.search(r'^VERSION_CODENAME=(\w+)', f.read(), re.M).group(1)
	mirror = os.environ.get('PAPT_MIRROR')
	d = '/etc/apt/sources.list.d'
	paths = ['/etc/apt/sources.list'] + (
		sorted(os.path.join(d, n) for n in os.listdir(d)) if os.path.isdir(d) else [])
	for path in [p for p in paths if os.path.isfile(p)] if not mirror else []:
		with open(path, errors='replace') as f:
			text = f.read()
		# One-line "deb URI suite main" and deb822 "URIs: ... Suites: ...".
		m = (re.search(r'^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+%s\s' % suite, text, re.M) or
		     re.search(r'^URIs:\s*(\S+)\s*\nSuites:.*\b%s\b' % suite, text, re.M))
		if m and 'security' not in m.group(1):
			mirror = m.group(1)
			break
	return mirror, suite


def arm64_libs(package):
	"""Extracts the arm64 build of a Debian package (of the host's suite)
	under LIBS; returns the flags to compile and link with it, or None.
	A private apt under OUT: the host's apt configuration is not touched."""
	root = os.path.join(LIBS, package)
	flags = ['-isystem', os.path.join(root, 'usr', 'include'),
		 '-L', os.path.join(root, 'usr', 'lib', 'aarch64-linux-gnu')]
	if os.path.exists(os.path.join(root, '.done')):
		return flags
	mirror, suite = host_archive()
	if not mirror:
		print('selftests: no Debian mirror for %s in the host\'s apt sources; set PAPT_MIRROR'
		      % suite)
		return None
	apt = os.path.join(LIBS, 'apt')
	for d in ('lists/partial', 'cache/archives/partial', 'debs'):
		os.makedirs(os.path.join(apt, d), exist_ok=True)
	with open(os.path.join(apt, 'sources.list'), 'w') as f:
		f.write('deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] '
			'%s %s main\n' % (mirror, suite))
	opts = []
	for o in ('Dir::Etc::SourceList=' + os.path.join(apt, 'sources.list'),
		  'Dir::Etc::SourceParts=/dev/null', 'Dir::State::Lists=' + os.path.join(apt, 'lists'),
		  'Dir::Cache=' + os.path.join(apt, 'cache'), 'Dir::State::Status=/dev/null',
		  'Debug::NoLocking=1', 'APT::Sandbox::User=root',
		  'APT::Architecture=arm64', 'APT::Architectures::=arm64'):
		opts += ['-o', o]
	log = os.path.join(kl.LOGS, 'selftests-libs.log')
	debs = os.path.join(apt, 'debs')
	with open(log, 'w') as f:
		ok = (subprocess.run(['apt-get', '-q'] + opts + ['update'], stdout=f,
				     stderr=subprocess.STDOUT).returncode == 0 and
		      subprocess.run(['apt-get', '-q'] + opts + ['download', package], cwd=debs,
				     stdout=f, stderr=subprocess.STDOUT).returncode == 0)
	deb = [d for d in os.listdir(debs) if d.startswith(package + '_')]
	if not ok or not deb:
		print(kl.tail(log))
		print('selftests: cannot download %s for arm64 (%s); see %s' % (package, suite, log))
		return None
	subprocess.run(['dpkg-deb', '-x', os.path.join(debs, sorted(deb)[-1]), root], check=True)
	open(os.path.join(root, '.done'), 'w').close()
	print('selftests: %s for arm64 from %s: %s' % (package, suite, sorted(deb)[-1]))
	return flags


def makefile_flags():
	"""(cflags, libs) the tree's selftests Makefile and lib.mk add; None if
	a library they link is not to be had."""
	cflags, libs = [], []
	with open(os.path.join(SRC, '..', 'lib.mk')) as f:
		if LIBMK_INCLUDE.search(f.read()):
			cflags += ['-I', os.path.dirname(SRC)]
	with open(os.path.join(SRC, '..', 'kselftest_harness.h')) as f:
		if HARNESS_POLL.search(f.read()):
			cflags += ['-DKSFT_WRAP_POLL', '-Wl,--wrap=poll']
	with open(os.path.join(SRC, 'Makefile')) as f:
		for lib in ' '.join(LDLIBS.findall(f.read())).split():
			if lib in ARM64_LIBS:
				flags = arm64_libs(ARM64_LIBS[lib])
				if flags is None:
					return None
				cflags += flags
			libs.append(lib)
	return cflags, libs


def compile_tests():
	flags = makefile_flags()
	if flags is None:
		return False
	for name, _ in BINARIES:
		cmd = [CROSS + 'gcc'] + CFLAGS + flags[0] + [
			'-isystem', os.path.join(HDR, 'include'),
			'-I', SAMPLE_INC,
			'-DKSFT_TIMEOUT_SCALE=%d' % CASE_TIMEOUT_SCALE, '-Wl,--wrap=alarm',
			'-o', os.path.join(ROOT, name), os.path.join(SRC, name + '.c'), ALARM_WRAP
		] + flags[1]
		p = subprocess.run(cmd, capture_output=True, text=True)
		if p.returncode:
			print(p.stderr[-6000:])
			print('selftests: %s does not build' % name)
			return False
	return True


def initramfs():
	"""init, the binaries and the list init runs, as a newc cpio."""
	subprocess.run([CROSS + 'gcc', '-static', '-O2', '-Wall', '-Werror', '-o',
			os.path.join(ROOT, 'init'), os.path.join(GUEST, 'selftest-init.c')],
		       check=True)
	with open(os.path.join(ROOT, 'selftests'), 'w') as f:
		f.writelines('%s %d\n' % b for b in BINARIES)
	names = ['init', 'selftests'] + [name for name, _ in BINARIES]
	cpio = os.path.join(OUT, 'selftests.cpio')
	with open(cpio, 'wb') as out:
		subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet'],
			       input=''.join(n + '\n' for n in names).encode(),
			       cwd=ROOT, stdout=out, check=True)
	return cpio


def build():
	"""Everything the guest runs; False if something does not build."""
	os.makedirs(ROOT, exist_ok=True)
	print('selftests: building %s for arm64 (case timeout 30 s x %d)' %
	      (', '.join(n for n, _ in BINARIES), CASE_TIMEOUT_SCALE))
	return headers() and compile_tests() and bool(initramfs())


def boot(cpio):
	"""Boots the make test kernel with KUnit off, the kernel's console on the
	first UART (CONSOLE_LOG) and the tests' output on the second (LOG);
	returns (timed_out, seconds)."""
	ops = kl.machine()
	kernel = os.path.join(kl.KUNIT_BUILD, ops._kernel_path)  # pylint: disable=protected-access
	args = ops._kernel_command_line.replace('kunit_shutdown=reboot', '')  # pylint: disable=protected-access
	for path in (LOG, CONSOLE_LOG):
		if os.path.exists(path):
			os.unlink(path)
	cmd = ['qemu-system-' + ops._qemu_arch, '-nodefaults', '-m', MEMORY,  # pylint: disable=protected-access
	       '-nographic', '-no-reboot', '-serial', 'stdio', '-serial', 'file:' + LOG,
	       '-kernel', kernel,
	       '-initrd', cpio, '-append', ' '.join([args.strip(), 'kunit.enable=0 rdinit=/init', KERNEL_ARGS]).strip()]
	cmd += ops._extra_qemu_params  # pylint: disable=protected-access
	timeout = sum(t for _, t in BINARIES) + BOOT_SLACK
	print('selftests: booting %s (timeout %ds)' % (os.path.relpath(kernel, kl.TOP), timeout))
	start = time.time()
	with open(CONSOLE_LOG, 'w') as f:
		try:
			subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
				       stdin=subprocess.DEVNULL, timeout=timeout, check=False)
			timed_out = False
		except subprocess.TimeoutExpired:
			timed_out = True
	took = time.time() - start
	print('selftests: ran in %ds; tests\' output in %s, console log in %s' %
	      (took, os.path.relpath(LOG, kl.TOP), os.path.relpath(CONSOLE_LOG, kl.TOP)))
	return timed_out, took


class Binary:
	"""What one selftest binary printed between its begin and end marks."""

	def __init__(self, name):
		self.name = name
		self.end = None		# "rc=0 time=12.3", "timeout time=...", ...
		self.totals = None
		self.cases = []		# (result, name, reason): 'pass', 'fail', 'skip'
		self.why = {}		# case -> its first failed check, or the timeout
		self.running = None

	def add(self, line):
		m = CASE.match(line)
		if m:
			verdict, name, directive, reason = m.groups()
			if directive == 'SKIP':
				result = 'skip'
			elif directive == 'XFAIL' or (verdict == 'ok' and not directive):
				result = 'pass'
			else:
				result = 'fail'
			self.cases.append((result, name, reason or self.why.get(name, '')))
		m = TOTALS.search(line)
		if m:
			self.totals = [int(n) for n in m.groups()]
		m = CASE_RUN.match(line)
		if m:
			self.running = m.group(1)
		if self.running and self.running not in self.why:
			check = CASE_CHECK.search(line)
			if CASE_TIMEOUT.match(line):
				self.why[self.running] = 'the kselftest harness\'s per-case timeout'
			elif check:
				self.why[self.running] = ': '.join(check.groups())[:160]

	def count(self, result):
		return sum(1 for c in self.cases if c[0] == result)

	def time(self):
		m = re.search(r'time=([\d.]+)', self.end or '')
		return float(m.group(1)) if m else None


def parse(lines):
	"""The binaries in the order they ran, from the console log."""
	binaries, current = [], None
	for line in lines:
		line = line.rstrip('\r\n')
		m = MARK.search(line)
		if m and m.group(1) == 'begin':
			current = Binary(m.group(2))
			binaries.append(current)
		elif m and current and m.group(2) == current.name:
			current.end = m.group(3) or ''
			current = None
		elif current:
			current.add(line.strip())
	return binaries


# A kselftest fixture variant that a case does not apply to: the case
# skips itself with this reason on every kernel (7.3's iommufd_viommu cases
# for the no_viommu variant, whose fixture creates no vIOMMU). Such a case
# is not a test that did not run on this machine, nor a pass: it is listed
# and counted neither way. Any other skip counts as failed.
NOT_APPLICABLE = re.compile(r'^Skipping test for variant (\S+)$')


def not_applicable(name, reason):
	"""The case (fixture.variant.test) skipped itself for its own variant."""
	m = NOT_APPLICABLE.match(reason or '')
	parts = name.split('.')
	return bool(m) and len(parts) == 3 and parts[1] == m.group(1)


def judge_binary(b, problems, na=None):
	"""(passed, failed, skipped) for one binary; its problems go to problems,
	the cases that do not apply to their variant to na."""
	p, f, s = b.count('pass'), b.count('fail'), b.count('skip')
	for result, name, reason in b.cases:
		if result == 'skip' and na is not None and not_applicable(name, reason):
			s -= 1
			na.append('%s: %s: %s' % (b.name, name, reason))
		elif result == 'fail':
			problems.append('%s: %s failed: %s' % (b.name, name, reason or '?'))
		elif result == 'skip':
			problems.append('%s: %s skipped: %s' % (b.name, name, reason))
	finished = b.end is not None and b.end.startswith('rc=') and b.totals is not None
	if not finished:
		f += 1
		problems.append('%s: did not finish (%s)' % (b.name, b.end or 'no end mark'))
	elif (b.totals[0] + b.totals[2], b.totals[1] + b.totals[3] + b.totals[5],
	      b.totals[4]) != (p, b.count('fail'), b.count('skip')):
		f += 1
		problems.append('%s: Totals %s do not match the %d case lines' %
				(b.name, b.totals, len(b.cases)))
	return p, f, s


def judge(lines, console, timed_out):
	"""Judges the tests' output (lines) and the kernel's console log; prints
	the table; returns (passed, failed, skipped, problems)."""
	problems, na = [], []
	passed = failed = skipped = 0
	ran = {b.name: b for b in parse(lines)}

	print('\n%-20s %-8s %-24s %s' % ('binary', 'result', 'cases (pass/fail/skip)',
					 'guest time'))
	for name, _ in BINARIES:
		b = ran.get(name)
		if not b:
			failed += 1
			problems.append('%s: did not run' % name)
			print('%-20s %-8s' % (name, 'MISSING'))
			continue
		p, f, s = judge_binary(b, problems, na)
		t = b.time()
		print('%-20s %-8s %-24s %s' % (name, 'PASS' if f == s == 0 else 'FAIL',
					       '%d/%d/%d' % (p, f, s),
					       '%.0fs' % t if t is not None else '?'))
		passed, failed, skipped = passed + p, failed + f, skipped + s

	if timed_out or not any(kl.FINISHED.search(l) for l in console):
		failed += 1
		problems.append('guest did not power off (hang or crash); console tail:\n' +
				''.join(console[-40:]))

	# The kmemleak report /init copies is in the tests' output.
	problem = kl.splat_check(console + lines, 20)
	if problem:
		failed += 1
		problems.append(problem)
	else:
		passed += 1
	if na:
		print('\nnot applicable to their fixture variant (the case skips itself '
		      'on any kernel), counted neither way:')
		print('\n'.join('  ' + k for k in na))
	return passed, failed, skipped, problems


def read_logs(log, console_log):
	"""(the tests' lines, the console's lines). The tests' log counts only if
	/init wrote to it (a SELFTEST line); on a machine with one UART, or a
	--parse of a log from one, the console holds both."""
	def lines_of(path):
		if not os.path.exists(path):
			return []
		with open(path, errors='replace') as f:
			return f.readlines()
	lines, console = lines_of(log), lines_of(console_log)
	if not console:
		return lines, lines
	if not any(l.startswith('SELFTEST: ') for l in lines):
		return console, console
	return lines, console


def run(no_build=False):
	"""Builds (unless no_build and built before), boots and judges; returns
	(passed, failed, problems) with skipped cases counted as failed."""
	os.makedirs(kl.LOGS, exist_ok=True)
	cpio = os.path.join(OUT, 'selftests.cpio')
	if not os.path.exists(os.path.join(kl.KUNIT_BUILD, 'arch', 'arm64', 'boot', 'Image.gz')):
		return 0, 1, ['no make test kernel in %s: run make test first' % kl.KUNIT_BUILD]
	if not (no_build and os.path.exists(cpio)) and not build():
		return 0, 1, ['the selftests do not build']
	timed_out, _ = boot(cpio)
	lines, console = read_logs(LOG, CONSOLE_LOG)
	passed, failed, skipped, problems = judge(lines, console, timed_out)
	return passed, failed + skipped, problems


def main():
	ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
	ap.add_argument('--no-build', action='store_true',
			help='reuse the selftests built last (the kernel is never built here)')
	ap.add_argument('--parse', metavar='LOG',
			help='only judge an existing log of the tests (and the console '
			'log beside it, LOG with -console before .log)')
	args = ap.parse_args()
	if args.parse:
		base, ext = os.path.splitext(args.parse)
		lines, console = read_logs(args.parse, base + '-console' + ext)
		passed, failed, skipped, problems = judge(lines, console, False)
		failed += skipped
	else:
		passed, failed, problems = run(args.no_build)
	if problems:
		print('\nproblems:')
		for p in problems:
			print('  ' + p)
	# Skipped cases are counted as failed, as in kl.py.
	skipped = sum(1 for p in problems if ' skipped: ' in p)
	return 0 if kl.summary(passed, failed - skipped, skipped) else 1


if __name__ == '__main__':
	sys.exit(main())
