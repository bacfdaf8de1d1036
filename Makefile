# SPDX-License-Identifier: GPL-2.0
#
# cohbuf: top-level build.  "make" builds the modules against the running
# kernel's headers (KDIR overrides) and the static selftests; "make check"
# tests everything inside Debian's kernels under QEMU.  "make help" lists
# every target.

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNELS ?= 6.1 6.12 6.12-rt sid sid-rt debug 6.1-arm64 6.12-arm64 6.12-iommu sid-iommu 6.12-arm64-smmu
NEGATIVE_KERNELS ?= 6.1 6.12 sid debug
DEMO_KERNEL ?= 6.12
BENCH_KERNELS ?= 6.12 sid
export KERNELS DEMO_KERNEL

# heap/ builds cohbuf_heap.ko only against kernels that export dma_heap_add(),
# iio/ cohbuf_iio.ko only against kernels with IIO buffers; it comes after
# importer/, whose Module.symvers it reads.
MODULE_DIRS := exporter importer heap iio
# The one version number: dkms.conf's (the .pc files and debian/changelog
# follow it; scripts/pkg-check compares them).
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
# Where "make install" puts things (DESTDIR in front of each); the
# packages are made of "make install PREFIX=/usr LIBDIR=/usr/lib/TRIPLET
# UDEVRULESDIR=/lib/udev/rules.d" (debian/rules).
BUILD ?= $(CURDIR)/build
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /etc/udev/rules.d
MODPROBEDIR ?= /etc/modprobe.d
DKMSSRCDIR := /usr/src/cohbuf-$(VERSION)
MANPAGES := man1/cohbuf.1 man3/libcohbuf.3 man4/cohbuf.4
# What DKMS builds from: DKMSSRCDIR (install-dkms-source).
DKMS_SOURCES := Kbuild dkms.conf $(wildcard include/*.h uapi/linux/*.h) \
	$(foreach d,$(MODULE_DIRS),$(d)/Kbuild $(wildcard $(d)/*.[ch]))

all: modules userspace selftests

modules:
	@test -d "$(KDIR)" || { echo "no kernel headers at $(KDIR):" \
		"install linux-headers-$$(uname -r) or pass KDIR=" >&2; exit 1; }
	@for d in $(MODULE_DIRS); do \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)/$$d" modules || exit 1; done

userspace:
	$(MAKE) -C userspace

install-userspace:
	$(MAKE) -C userspace OUT=$(BUILD)/userspace install

# Everything but the modules themselves, which dkms builds and installs
# for each kernel from DKMSSRCDIR ("dkms install cohbuf/VERSION").
install: install-userspace install-man install-dkms-source install-config

uninstall:
	$(MAKE) -C userspace OUT=$(BUILD)/userspace uninstall
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(MANPAGES)) \
		$(DESTDIR)$(UDEVRULESDIR)/60-cohbuf.rules $(DESTDIR)$(MODPROBEDIR)/cohbuf.conf
	rm -rf $(DESTDIR)$(DKMSSRCDIR)

man:
	BUILD=$(BUILD) scripts/docs --man

install-man: man
	@for p in $(MANPAGES); do \
		install -D -m 0644 "$(BUILD)/docs/man/$${p#*/}" "$(DESTDIR)$(MANDIR)/$$p" || exit 1; done

# The udev rule and the modprobe options file (every parameter, commented out).
install-config:
	install -D -m 0644 udev/60-cohbuf.rules $(DESTDIR)$(UDEVRULESDIR)/60-cohbuf.rules
	install -D -m 0644 modprobe.d/cohbuf.conf $(DESTDIR)$(MODPROBEDIR)/cohbuf.conf

# Without dkms: the modules built against KDIR into
# INSTALL_MOD_PATH/lib/modules/KVER/updates, then depmod (kbuild skips it
# without the System.map that Debian's headers lack).
install-modules: modules
	@for d in $(MODULE_DIRS); do \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)/$$d" INSTALL_MOD_DIR=updates \
			modules_install || exit 1; done
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a "$$(cat $(KDIR)/include/config/kernel.release)"

selftests:
	$(MAKE) -C selftests

# cohbuf_heap cannot be unloaded once loaded (dma-heaps are never removed).
load: modules
	insmod exporter/cohbuf.ko
	insmod importer/cohbuf_importer.ko
	if [ -f heap/cohbuf_heap.ko ] && [ ! -d /sys/module/cohbuf_heap ]; then \
		insmod heap/cohbuf_heap.ko; fi
	if [ -f iio/cohbuf_iio.ko ]; then modprobe industrialio && insmod iio/cohbuf_iio.ko; fi

unload:
	if [ -d /sys/module/cohbuf_iio ]; then rmmod cohbuf_iio; fi
	rmmod cohbuf_importer cohbuf

# The DKMS source tree, as the package cohbuf-dkms installs it.
install-dkms-source:
	@for f in $(DKMS_SOURCES); do \
		install -D -m 0644 "$$f" "$(DESTDIR)$(DKMSSRCDIR)/$$f" || exit 1; done

install-udev:
	install -D -m 0644 udev/60-cohbuf.rules /etc/udev/rules.d/60-cohbuf.rules
	getent group cohbuf >/dev/null || groupadd --system cohbuf
	udevadm control --reload-rules && udevadm trigger --subsystem-match=misc

check:
	scripts/check

check-static:
	scripts/check --static-only

check-vm:
	scripts/check --vm-only

check-pkg:
	scripts/check --pkg-only

deb:
	scripts/deb

check-selftest-negative:
	KERNELS="$(NEGATIVE_KERNELS)" scripts/check --negative

demo:
	scripts/demo

# Timings: one guest at a time, whatever JOBS says.  "make bench KERNELS=..."
# picks the kernels; without it, BENCH_KERNELS.
bench:
	KERNELS="$(if $(filter file,$(origin KERNELS)),$(BENCH_KERNELS),$(KERNELS))" \
		scripts/bench

docs:
	scripts/docs

clean:
	@for d in $(MODULE_DIRS) selftests/negative; do \
		rm -f $$d/*.o $$d/*.ko $$d/*.mod $$d/*.mod.c $$d/.*.cmd \
			$$d/Module.symvers $$d/modules.order $$d/.module-common.o; done
	rm -rf build

help:
	@echo "cohbuf make targets:"
	@echo "  all (default)     build the modules (against KDIR), user space and the selftests"
	@echo "  modules           build exporter/cohbuf.ko, importer/cohbuf_importer.ko and,"
	@echo "                    where the kernel exports dma_heap_add, heap/cohbuf_heap.ko"
	@echo "                    and, where it has IIO buffers, iio/cohbuf_iio.ko"
	@echo "                    against KDIR"
	@echo "                    (default: /lib/modules/\$$(uname -r)/build)"
	@echo "  userspace         build libcohbuf.so.1, libcohbuf.a, libcohbuf-drm.a (PRIME,"
	@echo "                    vgem), their .pc files and the cohbuf tool (static, and"
	@echo "                    shared/cohbuf against libcohbuf.so.1) into build/userspace"
	@echo "  install-userspace install them under PREFIX (default /usr/local)"
	@echo "  install           install-userspace, the man pages (MANDIR), the udev rule"
	@echo "                    (UDEVRULESDIR, default /etc/udev/rules.d), the modprobe"
	@echo "                    options file (MODPROBEDIR) and the DKMS sources in"
	@echo "                    /usr/src/cohbuf-VERSION, all under DESTDIR: the files of"
	@echo "                    the packages; then \"dkms install cohbuf/VERSION\" builds"
	@echo "                    and installs the modules"
	@echo "  uninstall         remove what install installed"
	@echo "  install-modules   without dkms: the modules against KDIR into"
	@echo "                    /lib/modules/KVER/updates (root)"
	@echo "  install-dkms-source"
	@echo "                    only the DKMS sources (dkms.conf, Kbuild, the modules)"
	@echo "  deb               the Debian packages (debian/) into build/deb, built"
	@echo "                    outside the checkout, lintian clean"
	@echo "  man               the man pages cohbuf(1), libcohbuf(3), cohbuf(4)"
	@echo "                    into build/docs/man"
	@echo "  selftests         build the static kselftest programs into build/selftests"
	@echo "  load / unload     insmod / rmmod the modules on this machine (root);"
	@echo "                    cohbuf_heap, once loaded, stays"
	@echo "  install-udev      install udev/60-cohbuf.rules: group cohbuf may use /dev/cohbuf"
	@echo "  check             static checks, packaging checks + all selftests in every"
	@echo "                    kernel of KERNELS under QEMU; last line: N passed,"
	@echo "                    N failed, N skipped"
	@echo "  check-static      checkpatch --strict, shellcheck, the docs build, W=1 -Werror"
	@echo "                    and sparse only"
	@echo "  check-vm          the selftests in the guests only"
	@echo "  check-pkg         the packaging checks only: packages, lintian, dkms,"
	@echo "                    make install/uninstall, man -l, a program against the"
	@echo "                    installed libcohbuf in a PKG_KERNEL guest"
	@echo "  check-selftest-negative"
	@echo "                    prove the rig catches a failing test, an oops and hangs"
	@echo "                    (on debug also a KASAN use-after-free and a kmemleak leak)"
	@echo "  demo              boot DEMO_KERNEL under QEMU and show cohbuf working"
	@echo "  bench             the benchmark (Documentation/performance.rst) in each kernel"
	@echo "                    of KERNELS (default \"$(BENCH_KERNELS)\"), one guest at a time:"
	@echo "                    build/bench/KVER.md (table), .csv and PNG plots;"
	@echo "                    BENCH_ONLY=S1,P6 only those groups, BENCH_CONFIRM_S=30"
	@echo "                    S1's confirming runs of 30 s (default 5)"
	@echo "  docs              build the HTML documentation into build/docs/html and"
	@echo "                    the man pages into build/docs/man (Sphinx and"
	@echo "                    kernel-doc; warnings fail); streams of the"
	@echo "                    importer: Documentation/streaming.rst"
	@echo "  clean             remove build output"
	@echo "variables: KDIR, PREFIX, LIBDIR, MANDIR, UDEVRULESDIR, MODPROBEDIR, DESTDIR,"
	@echo "  PKG_KERNEL (check-pkg's kernel, default 6.12), KERNELS (default \"$(KERNELS)\"; sid is the newest" \
		"kernel of Debian unstable, SERIES-rt the PREEMPT_RT flavour," \
		"debug a KASAN/lockdep/kmemleak/fault-injection kernel built from linux-source-6.12," \
		"SERIES-arm64 Debian's arm64 kernel under qemu-system-aarch64," \
		"SERIES-iommu and SERIES-arm64-smmu a second boot behind intel-iommu or SMMUv3 running only" \
		"cohbuf_edu_test and cohbuf_busaddr_test),"
	@echo "  NEGATIVE_KERNELS (default \"$(NEGATIVE_KERNELS)\"), JOBS (guests, and the static" \
		"checks, at once; default: cores), DEBUG_TIMEOUT (debug guest, default 900 s), DEMO_KERNEL" \
		"(default $(DEMO_KERNEL)),"
	@echo "  COHBUF_CACHE (default ~/.cache/cohbuf), COHBUF_PIN" \
		"(e.g. \"6.1=6.1.0-55-amd64\"),"
	@echo "  ONLY (check, check-vm: only these selftest programs), TEST_ENV" \
		"(\"NAME=VALUE ...\" for them in the guests), DEBUG_FUZZ_SECONDS" \
		"(per fuzz run on the debug kernel, default 10), ARM64_FUZZ_SECONDS" \
		"(per fuzz run in the arm64 guests, default 10)"

.PHONY: all modules userspace install-userspace install uninstall man install-man \
	install-config install-modules install-dkms-source selftests load unload install-udev check check-static check-vm \
	check-selftest-negative check-pkg deb demo bench docs clean help
