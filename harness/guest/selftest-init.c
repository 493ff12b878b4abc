// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the selftests guest: run each kselftest binary listed in /selftests
 * (one "name timeout-in-seconds" a line; the binaries sit next to init) with
 * its output on the second UART (/dev/ttyAMA1; the kernel's console is the
 * first, so no printk lands inside a result line), bracketed by lines the
 * host parses:
 *
 *   SELFTEST: begin NAME timeout=T
 *   SELFTEST: end NAME rc=N time=S        (exit status N)
 *   SELFTEST: end NAME signal=N time=S    (killed by signal N: a crash)
 *   SELFTEST: end NAME timeout time=S     (killed after T seconds)
 *
 * then ask kmemleak for a last scan, and power off. A machine with one UART
 * gets everything on the console. Before the tests, each edu device with a
 * PASID capability (QEMU's edu,pasid=on) is handed to the mpasid sample, the
 * parent iommu_aux_mdev drives, through driver_override: the edu sample has
 * it at boot.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define LIST		"/selftests"
#define OUTPUT		"/dev/ttyAMA1"
#define DEBUGFS		"/sys/kernel/debug"
#define KMEMLEAK	DEBUGFS "/kmemleak"
#define PCI_DEVICES	"/sys/bus/pci/devices"
#define EDU_ID		"0x1234 0x11e8"
#define PCI_CFG_EXT	0x100	/* the first extended capability */
#define PCI_CAP_PASID	0x1b
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"
/* 2 MB pages: the largest hugetlb buffer of iommufd.c is 128 MB (dirty128M_huge). */
#define HUGEPAGES	"128"

static volatile sig_atomic_t timed_out;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("SELFTEST: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static int write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Copies a debugfs report to the console; returns how many lines start with start. */
static int copy_to_console(const char *path, const char *start)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stdout);
		n += !strncmp(line, start, strlen(start));
	}
	fclose(f);
	fflush(stdout);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void mount_fs(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL))
		say("mount %s on %s: %s", type, dir, strerror(errno));
}

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/* Reaps whatever a killed test left behind: init inherits the orphans. */
static void reap_orphans(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void run_one(const char *name, unsigned int timeout)
{
	char path[256];
	int status = 0, killed = 0;
	double start;
	pid_t pid;

	snprintf(path, sizeof(path), "/%s", name);
	say("begin %s timeout=%u", name, timeout);
	start = now();
	pid = fork();
	if (pid < 0) {
		say("end %s fork-failed time=0.0", name);
		return;
	}
	if (!pid) {
		/* Its own process group, so a timeout kills the harness's children too. */
		setpgid(0, 0);
		execl(path, path, (char *)NULL);
		printf("exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	timed_out = 0;
	alarm(timeout);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			break;
		if (timed_out && !killed) {
			kill(-pid, SIGKILL);
			killed = 1;
		}
	}
	alarm(0);
	/* Whatever the test's own children left running goes with it. */
	kill(-pid, SIGKILL);
	reap_orphans();
	if (killed)
		say("end %s timeout time=%.1f", name, now() - start);
	else if (WIFSIGNALED(status))
		say("end %s signal=%d time=%.1f", name, WTERMSIG(status), now() - start);
	else
		say("end %s rc=%d time=%.1f", name, WEXITSTATUS(status), now() - start);
}

/*
 * Reserves hugetlb pages for the MAP_HUGETLB cases of iommufd.c where the
 * kernel has hugetlbfs; says so where it has not, since those cases fail then.
 */
static void reserve_hugepages(void)
{
	char got[32] = "?";
	FILE *f;

	if (access(NR_HUGEPAGES, F_OK)) {
		say("no %s: kernel without CONFIG_HUGETLBFS, MAP_HUGETLB fails", NR_HUGEPAGES);
		return;
	}
	write_file(NR_HUGEPAGES, HUGEPAGES);
	f = fopen(NR_HUGEPAGES, "r");
	if (f && fgets(got, sizeof(got), f))
		got[strcspn(got, "\n")] = '\0';
	if (f)
		fclose(f);
	say("hugepages reserved %s of %s", got, HUGEPAGES);
}

/*
 * A last kmemleak scan, so that a leak in an error path swept by
 * iommufd_fail_nth shows up as "kmemleak: N new suspected memory leaks"
 * even when the run ends before the periodic scan; the report follows.
 */
static void scan_kmemleak(void)
{
	if (access(KMEMLEAK, F_OK))
		return;
	say("kmemleak scan");
	/* Objects younger than 5 s are never reported: let the last ones age. */
	sleep(6);
	if (write_file(KMEMLEAK, "scan"))
		say("kmemleak scan: %s", strerror(errno));
	say("kmemleak: %d unreferenced object(s) reported",
	    copy_to_console(KMEMLEAK, "unreferenced object"));
}

static int read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ok ? 0 : -1;
}

/* Does PCI device @dir (a path) have a PASID extended capability? */
static int has_pasid_cap(const char *dir)
{
	unsigned char cfg[4096];
	unsigned int off = PCI_CFG_EXT, hops = 0;
	char path[600];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(cfg, 1, sizeof(cfg), f);
	fclose(f);
	while (off >= PCI_CFG_EXT && off + 4 <= n && hops++ < 64) {
		uint32_t hdr = cfg[off] | cfg[off + 1] << 8 | cfg[off + 2] << 16 |
			       (uint32_t)cfg[off + 3] << 24;

		if ((hdr & 0xffff) == PCI_CAP_PASID)
			return 1;
		off = hdr >> 20;
	}
	return 0;
}

/* Hands each edu with PASIDs to mpasid: driver_override, unbind, probe. */
static void bind_mpasid(void)
{
	char dir[512], path[600], link[512], vendor[16], device[16], id[40];
	struct dirent *d;
	ssize_t n;
	DIR *devs = opendir(PCI_DEVICES);

	while (devs && (d = readdir(devs))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), PCI_DEVICES "/%s", d->d_name);
		snprintf(path, sizeof(path), "%s/vendor", dir);
		if (read_str(path, vendor, sizeof(vendor)))
			continue;
		snprintf(path, sizeof(path), "%s/device", dir);
		if (read_str(path, device, sizeof(device)))
			continue;
		snprintf(id, sizeof(id), "%s %s", vendor, device);
		if (strcmp(id, EDU_ID) || !has_pasid_cap(dir))
			continue;
		snprintf(path, sizeof(path), "%s/driver_override", dir);
		if (write_file(path, "mpasid")) {
			say("%s: driver_override: %s", d->d_name, strerror(errno));
			continue;
		}
		snprintf(path, sizeof(path), "%s/driver/unbind", dir);
		if (!access(path, F_OK))
			write_file(path, d->d_name);
		write_file(PCI_DEVICES "/../drivers_probe", d->d_name);
		snprintf(path, sizeof(path), "%s/driver", dir);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		say("%s: %s", d->d_name, strstr(link, "/mpasid") ? "bound to mpasid" :
			"mpasid did not take it");
	}
	if (devs)
		closedir(devs);
}

static void run_all(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	unsigned int timeout;
	char name[128];
	FILE *list;

	sigaction(SIGALRM, &sa, NULL);
	list = fopen(LIST, "r");
	if (!list) {
		say("no %s: %s", LIST, strerror(errno));
		return;
	}
	while (fscanf(list, "%127s %u", name, &timeout) == 2)
		run_one(name, timeout);
	fclose(list);
}

/*
 * The tests' output to OUTPUT, raw (no \r added), where the machine has it;
 * the console otherwise.
 */
static void use_output_uart(void)
{
	struct termios t;
	int fd = open(OUTPUT, O_WRONLY | O_NOCTTY);

	if (fd < 0) {
		say("no %s (%s): tests' output on the console", OUTPUT, strerror(errno));
		return;
	}
	if (!tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	say("tests' output on %s", OUTPUT);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

int main(void)
{
	double start = now();

	mount_fs("proc", "/proc", "proc");
	mount_fs("sysfs", "/sys", "sysfs");
	mount_fs("devtmpfs", "/dev", "devtmpfs");
	/*
	 * iommufd_fail_nth drives fault injection through debugfs; it sets
	 * failslab and fail_page_alloc to inject into any allocation and
	 * writes 0 to every fail* verbose knob itself, so the injected
	 * failures print no "FAULT_INJECTION: forcing a failure" stack dumps.
	 * No test here needs /tmp.
	 */
	mount_fs("debugfs", DEBUGFS, "debugfs");
	use_output_uart();
	say("/dev/iommu %s", access("/dev/iommu", F_OK) ? "missing" : "present");
	reserve_hugepages();
	bind_mpasid();
	run_all();
	scan_kmemleak();
	say("done time=%.1f", now() - start);
	/* What the UART has not sent yet would be lost at power off. */
	tcdrain(STDOUT_FILENO);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
