// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the make demo guest: report what the guest sees of the IOMMU,
 * then power off. Lines meant for the report start with "DEMO: ".
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define EDU_VENDOR	"0x1234"
#define EDU_DEVICE	"0x11e8"
#define SYSLOG_ACTION_READ_ALL	3

static void report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("DEMO: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

/* First line of a sysfs file, without the newline; "?" if unreadable. */
static const char *read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(buf, len, f)) {
		snprintf(buf, len, "?");
	} else {
		buf[strcspn(buf, "\n")] = '\0';
	}
	if (f)
		fclose(f);
	return buf;
}

/* Last path component of a symlink's target; "none" if there is no link. */
static const char *link_name(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);
	char *slash;

	if (n < 0) {
		snprintf(buf, len, "none");
		return buf;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

static void report_smmu(void)
{
	static char log[1 << 20];
	struct dirent *d;
	int n, found = 0;
	char *line;
	DIR *dir;

	dir = opendir("/sys/class/iommu");
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		report("IOMMU instance  %s%s", d->d_name,
		       strncmp(d->d_name, "smmu3.", 6) ? " (test-only mock)" : " (SMMUv3)");
		found++;
	}
	if (dir)
		closedir(dir);
	if (!found)
		report("IOMMU instance  none registered");

	n = klogctl(SYSLOG_ACTION_READ_ALL, log, sizeof(log) - 1);
	if (n < 0)
		return;
	log[n] = '\0';
	for (line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
		/* The probe lines; the e2e suite's fault records are counted above. */
		if (strstr(line, "arm-smmu-v3") && !strstr(line, "event 0x") &&
		    !strstr(line, "\t0x"))
			report("  kernel: %s", line);
}

static void report_edu(void)
{
	char path[512], vendor[16], device[16], buf[256], type[32], group[64];
	struct dirent *d, *g;
	int found = 0;
	DIR *dir, *gdir;

	dir = opendir("/sys/bus/pci/devices");
	while (dir && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", d->d_name);
		read_line(path, vendor, sizeof(vendor));
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", d->d_name);
		read_line(path, device, sizeof(device));
		if (strcmp(vendor, EDU_VENDOR) || strcmp(device, EDU_DEVICE))
			continue;
		found++;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", d->d_name);
		snprintf(group, sizeof(group), "%s", link_name(path, buf, sizeof(buf)));
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", d->d_name);
		report("edu device      %s [1234:11e8], driver %s", d->d_name,
		       link_name(path, buf, sizeof(buf)));
		if (!strcmp(group, "none")) {
			report("  iommu_group   none: the device is not behind an IOMMU");
			continue;
		}
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/type", group);
		read_line(path, type, sizeof(type));
		report("  iommu_group   %s, default domain type %s", group, type);
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices", group);
		gdir = opendir(path);
		while (gdir && (g = readdir(gdir)))
			if (g->d_name[0] != '.')
				report("  group member  %s", g->d_name);
		if (gdir)
			closedir(gdir);
	}
	if (dir)
		closedir(dir);
	if (!found)
		report("edu device      not found (is QEMU started with -device edu?)");
}

int main(void)
{
	struct utsname u;

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);

	uname(&u);
	report("kernel          %s %s", u.release, u.machine);
	report_smmu();
	report_edu();
	report("done");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
