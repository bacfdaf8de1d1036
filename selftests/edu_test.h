/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's edu PCI device (1234:11e8) for the selftests that use it: finding
 * it, whether the importer's cohbuf-edu driver has it, bringing it back
 * bound after a test took it away, and whether an IOMMU translates its
 * DMA. Include after cohbuf_test.h.
 */
#ifndef EDU_TEST_H
#define EDU_TEST_H

#include <dirent.h>

#define EDU_DRIVER	"/sys/bus/pci/drivers/cohbuf-edu"
#define PCI_DEVICES	"/sys/bus/pci/devices"
/*
 * Binding can take a while where ACPI routes the device's INTx slowly:
 * under KASAN and TCG, i440fx's _PRT ran into ACPICA's 30 s loop timeout
 * at every bind (the rig boots the debug guest on q35 for this). Jobs
 * never wait for it.
 */
#define RESTORE_S	60

/* The PCI address of the first edu device (1234:11e8) in @bdf: 0, or -1. */
static inline int edu_find(char *bdf, size_t len)
{
	char path[512], text[32];
	struct dirent *e;
	DIR *dir = opendir(PCI_DEVICES);
	int found = -1;

	if (!dir)
		return -1;
	while (found && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/vendor", e->d_name);
		if (read_text(path, text, sizeof(text)) < 0 || strtol(text, NULL, 0) != 0x1234)
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/device", e->d_name);
		if (read_text(path, text, sizeof(text)) < 0 || strtol(text, NULL, 0) != 0x11e8)
			continue;
		snprintf(bdf, len, "%s", e->d_name);
		found = 0;
	}
	closedir(dir);
	return found;
}

static inline int edu_bound(const char *bdf)
{
	char path[512];

	snprintf(path, sizeof(path), EDU_DRIVER "/%s", bdf);
	return access(path, F_OK) == 0;
}

/*
 * Bring the edu device back after a test removed or unbound it: rescan
 * the bus if it is gone, bind it if it is not bound, and wait up to
 * RESTORE_S. 0 once it is bound to cohbuf-edu, or -1.
 */
static inline int edu_restore(void)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	double start = monotonic_s();
	char bdf[256];

	if (edu_find(bdf, sizeof(bdf)))
		write_text("/sys/bus/pci/rescan", "1");
	while (monotonic_s() - start < RESTORE_S) {
		if (!edu_find(bdf, sizeof(bdf))) {
			if (edu_bound(bdf))
				return 0;
			write_text(EDU_DRIVER "/bind", bdf);
		}
		nanosleep(&pause, NULL);
	}
	return -1;
}

/*
 * Does the device's DMA go through an IOMMU's translation? Its IOMMU
 * group's default domain says ("DMA" or "DMA-FQ"; "identity" does not
 * translate).
 */
static inline int edu_translated(const char *bdf)
{
	char path[512], type[64];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group/type", bdf);
	return read_text(path, type, sizeof(type)) > 0 && !strncmp(type, "DMA", 3);
}

#endif /* EDU_TEST_H */
