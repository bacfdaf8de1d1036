# SPDX-License-Identifier: GPL-2.0
#
# cohbuf: top-level build.  "make" builds the modules against the running
# kernel's headers (KDIR overrides) and the static selftests; "make check"
# tests everything inside Debian's kernels under QEMU.  "make help" lists
# every target.

KDIR ?= /lib/modules/$(shell uname -r)/build
KERNELS ?= 6.1 6.12 6.12-rt sid sid-rt debug 6.1-arm64 6.12-arm64
NEGATIVE_KERNELS ?= 6.1 6.12 sid debug
DEMO_KERNEL ?= 6.12
BENCH_KERNELS ?= 6.12 sid
export KERNELS DEMO_KERNEL

# heap/ builds cohbuf_heap.ko only against kernels that export dma_heap_add().
MODULE_DIRS := exporter importer heap

all: modules userspace selftests

modules:
	@test -d "$(KDIR)" || { echo "no kernel headers at $(KDIR):" \
		"install linux-headers-$$(uname -r) or pass KDIR=" >&2; exit 1; }
	@for d in $(MODULE_DIRS); do \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)/$$d" modules || exit 1; done

userspace:
	$(MAKE) -C userspace

install-userspace:
	$(MAKE) -C userspace install

selftests:
	$(MAKE) -C selftests

# cohbuf_heap cannot be unloaded once loaded (dma-heaps are never removed).
load: modules
	insmod exporter/cohbuf.ko
	insmod importer/cohbuf_importer.ko
	if [ -f heap/cohbuf_heap.ko ] && [ ! -d /sys/module/cohbuf_heap ]; then \
		insmod heap/cohbuf_heap.ko; fi

unload:
	rmmod cohbuf_importer cohbuf

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
	@echo "                    against KDIR"
	@echo "                    (default: /lib/modules/\$$(uname -r)/build)"
	@echo "  userspace         build libcohbuf.a, libcohbuf-drm.a (PRIME, vgem), their"
	@echo "                    .pc files and the cohbuf tool into build/userspace"
	@echo "  install-userspace install them under PREFIX (default /usr/local)"
	@echo "  selftests         build the static kselftest programs into build/selftests"
	@echo "  load / unload     insmod / rmmod the modules on this machine (root);"
	@echo "                    cohbuf_heap, once loaded, stays"
	@echo "  install-udev      install udev/60-cohbuf.rules: group cohbuf may use /dev/cohbuf"
	@echo "  check             static checks + all selftests in every kernel of KERNELS"
	@echo "                    under QEMU; last line: N passed, N failed, N skipped"
	@echo "  check-static      checkpatch --strict, shellcheck, the docs build, W=1 -Werror"
	@echo "                    and sparse only"
	@echo "  check-vm          the selftests in the guests only"
	@echo "  check-selftest-negative"
	@echo "                    prove the rig catches a failing test, an oops and hangs"
	@echo "                    (on debug also a KASAN use-after-free and a kmemleak leak)"
	@echo "  demo              boot DEMO_KERNEL under QEMU and show cohbuf working"
	@echo "  bench             the benchmark (Documentation/performance.rst) in each kernel"
	@echo "                    of KERNELS (default \"$(BENCH_KERNELS)\"), one guest at a time:"
	@echo "                    build/bench/KVER.md (table), .csv and PNG plots"
	@echo "  docs              build the HTML documentation into build/docs/html"
	@echo "                    (Sphinx and kernel-doc; warnings fail)"
	@echo "  clean             remove build output"
	@echo "variables: KDIR, KERNELS (default \"$(KERNELS)\"; sid is the newest" \
		"kernel of Debian unstable, SERIES-rt the PREEMPT_RT flavour," \
		"debug a KASAN/lockdep/kmemleak/fault-injection kernel built from linux-source-6.12," \
		"SERIES-arm64 Debian's arm64 kernel under qemu-system-aarch64),"
	@echo "  NEGATIVE_KERNELS (default \"$(NEGATIVE_KERNELS)\"), JOBS (guests, and the static" \
		"checks, at once; default: cores), DEBUG_TIMEOUT (debug guest, default 900 s), DEMO_KERNEL" \
		"(default $(DEMO_KERNEL)),"
	@echo "  COHBUF_CACHE (default ~/.cache/cohbuf), COHBUF_PIN" \
		"(e.g. \"6.1=6.1.0-55-amd64\"),"
	@echo "  ONLY (check, check-vm: only these selftest programs), TEST_ENV" \
		"(\"NAME=VALUE ...\" for them in the guests), DEBUG_FUZZ_SECONDS" \
		"(per fuzz run on the debug kernel, default 10), ARM64_FUZZ_SECONDS" \
		"(per fuzz run in the arm64 guests, default 20)"

.PHONY: all modules userspace install-userspace selftests load unload install-udev check check-static check-vm \
	check-selftest-negative demo bench docs clean help
