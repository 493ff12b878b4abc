// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into each selftest with -Wl,--wrap=alarm. The kselftest harness
 * gives every case alarm(TEST_TIMEOUT_DEFAULT), 30 s, a budget for real
 * hardware; under QEMU TCG with KASAN, lockdep and kmemleak a case runs
 * tens of times slower, and iommufd_fail_nth's sweeps outgrow it. This
 * scales every alarm() of the binary (only the harness calls it) by
 * KSFT_TIMEOUT_SCALE, which selftests.py passes with -D; a case that
 * still runs out is still reported "Test terminated by timeout".
 *
 * Newer harnesses (7.3's) wait for the case with poll() on its pidfd,
 * timeout * 1000 ms, instead of alarm(): with KSFT_WRAP_POLL (and
 * -Wl,--wrap=poll) every poll() timeout of the binary is scaled the same
 * way. The only other poll() of the iommu selftests waits 1 s for events
 * the test has already triggered, so a longer wait changes no verdict.
 */
#include <poll.h>
#include <unistd.h>

unsigned int __real_alarm(unsigned int seconds);

unsigned int __wrap_alarm(unsigned int seconds)
{
	return __real_alarm(seconds * KSFT_TIMEOUT_SCALE) / KSFT_TIMEOUT_SCALE;
}

#ifdef KSFT_WRAP_POLL
int __real_poll(struct pollfd *fds, nfds_t nfds, int timeout);

int __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	return __real_poll(fds, nfds, timeout > 0 ? timeout * KSFT_TIMEOUT_SCALE : timeout);
}
#endif
