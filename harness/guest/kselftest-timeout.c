// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into each selftest with -Wl,--wrap=alarm. The kselftest harness
 * gives every case alarm(TEST_TIMEOUT_DEFAULT), 30 s, a budget for real
 * hardware; under QEMU TCG with KASAN, lockdep and kmemleak a case runs
 * tens of times slower, and iommufd_fail_nth's sweeps outgrow it. This
 * scales every alarm() of the binary (only the harness calls it) by
 * KSFT_TIMEOUT_SCALE, which selftests.py passes with -D; a case that
 * still runs out is still reported "Test terminated by timeout".
 */
#include <unistd.h>

unsigned int __real_alarm(unsigned int seconds);

unsigned int __wrap_alarm(unsigned int seconds)
{
	return __real_alarm(seconds * KSFT_TIMEOUT_SCALE) / KSFT_TIMEOUT_SCALE;
}
