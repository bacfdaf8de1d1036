# SPDX-License-Identifier: GPL-2.0
# Sourced by sh scripts, so it has no #! line of its own:
# shellcheck shell=sh
#
# Shared helpers of the VM rig, sourced by the scripts next to it.
#
# COHBUF_CACHE  where downloaded packages, extracted kernels and the files taken
#               from linux-source live (outside the clone, so fresh clones and
#               later runs reuse them).  Default: $HOME/.cache/cohbuf.
# COHBUF_PIN    optional pins, e.g. "6.1=6.1.0-55-amd64 6.12=6.12.115+deb12-amd64".
#
# Series: "6.1", "6.12" (Debian 12's kernels, from the host's apt lists) and
# "sid" (the newest kernel of Debian unstable, see sid.sh), each optionally
# with "-rt" for the PREEMPT_RT flavour, and "debug": a kernel with KASAN,
# lockdep, kmemleak, DMA-API debugging and fault injection that the rig
# builds itself from linux-source-6.12 (build-debug-kernel).

COHBUF_CACHE=${COHBUF_CACHE:-${HOME:-/root}/.cache/cohbuf}
# The top of the source tree, from wherever the sourcing script lives.
TOP=$(cd "$(dirname "$0")" && while [ ! -f scripts/vm/lib.sh ] && [ "$PWD" != / ]; do
	cd ..; done; pwd)

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A series is "6.1", "6.12", ... optionally with "-rt" for the PREEMPT_RT
# flavour: the flavour's suffix of kernel releases and the regex of the
# series' version prefix.
series_flavour() { case "$1" in *-rt) echo rt-amd64 ;; *) echo amd64 ;; esac; }
series_re() { printf '%s' "${1%-rt}" | sed 's/\./\\./g'; }

# Keep only the kernel releases of the series' flavour (stdin to stdout).
flavour_filter() {
	if [ "$(series_flavour "$1")" = amd64 ]; then
		grep -v -e '-rt-' -e '-cloud-'
	else
		grep -v -e '-cloud-'
	fi
}

# Newest linux-image package of a series known to apt, as a kernel release
# string (e.g. 6.1.0-56-amd64, 6.12.117+deb12-rt-amd64), or nothing.
apt_newest_kver() {
	re="^linux-image-$(series_re "$1")\\.[0-9][^ ]*-$(series_flavour "$1")-unsigned\$"
	apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$re" | flavour_filter "$1" |
		sed -e 's/^linux-image-//' -e 's/-unsigned$//' | sort -V | tail -n 1
}

# Newest kernel of a series already extracted in the cache, or nothing.
cached_newest_kver() {
	if is_sid_series "$1"; then
		re="^[0-9]+\\.[0-9]+.*-$(series_flavour "$1")\$"
	else
		re="^$(series_re "$1")\\.[0-9].*-$(series_flavour "$1")\$"
	fi
	for d in "$COHBUF_CACHE/kernels"/*/; do
		[ -d "$d" ] && basename "$d"
	done | grep -E "$re" | flavour_filter "$1" | while read -r k; do
		if { is_sid_series "$1" && kernel_is_sid "$k"; } ||
		   { ! is_sid_series "$1" && ! kernel_is_sid "$k"; }; then
			printf '%s\n' "$k"
		fi
	done | sort -V | tail -n 1
}

# A cached kernel that came from Debian unstable (fetch-kernel marks it).
kernel_is_sid() { [ -f "$COHBUF_CACHE/kernels/$1/root/SID" ]; }

# The debug series: the linux-source-6.12 package version, its upstream
# release, the cache key (source version, fragment, compiler) and the
# kernel release built from them.
is_debug_series() { [ "$1" = debug ]; }
debug_source_version() {
	dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null ||
		die "linux-source-6.12 is not installed (run scripts/setup)"
}
debug_upstream_version() { debug_source_version | sed 's/-[^-]*$//'; }
debug_key() {
	{
		debug_source_version
		echo
		sha256sum < "$TOP/scripts/vm/debug.config"
		${CC:-gcc} --version | head -n 1
	} | sha256sum | cut -c 1-10
}
debug_kver() { printf '%s-cohbuf-debug-%s\n' "$(debug_upstream_version)" "$(debug_key)"; }
kernel_is_debug() { case "$1" in *-cohbuf-debug-*) return 0 ;; esac; return 1; }

# Kernel release to use for a series: a pin, else the newest in apt's lists,
# else the newest one cached (so a warm cache works without package lists).
resolve_kver() {
	series=$1
	for pin in ${COHBUF_PIN:-}; do
		if [ "${pin%%=*}" = "$series" ]; then
			printf '%s\n' "${pin#*=}"
			return 0
		fi
	done
	if is_debug_series "$series"; then
		debug_kver
		return 0
	elif is_sid_series "$series"; then
		kver=$(sid_newest_kver "$series")
	else
		kver=$(apt_newest_kver "$series")
	fi
	[ -n "$kver" ] || kver=$(cached_newest_kver "$series")
	[ -n "$kver" ] || die "no Debian kernel found for series $series (run apt-get update)"
	printf '%s\n' "$kver"
}

kernel_root() { printf '%s\n' "$COHBUF_CACHE/kernels/$1/root"; }
kernel_kdir() {
	if kernel_is_debug "$1"; then
		printf '%s\n' "$COHBUF_CACHE/kernels/$1/build"
	elif kernel_is_sid "$1"; then
		printf '%s\n' "$SID_ROOT/usr/src/linux-headers-$1"
	else
		printf '%s\n' "$COHBUF_CACHE/kernels/$1/root/usr/src/linux-headers-$1"
	fi
}

# kmake KVER DIR SUBDIR [ARGS...]: kbuild of the external module in DIR/SUBDIR
# for KVER, on the host or, for a sid kernel, in the sid chroot.
kmake() {
	km_kver=$1 km_dir=$2 km_sub=$3
	shift 3
	if kernel_is_sid "$km_kver"; then
		sid_run "$km_dir" make -C "/usr/src/linux-headers-$km_kver" M="/work/$km_sub" "$@"
	else
		make -C "$(kernel_kdir "$km_kver")" M="$km_dir/$km_sub" "$@"
	fi
}
kernel_image() { printf '%s\n' "$COHBUF_CACHE/kernels/$1/root/boot/vmlinuz-$1"; }

# The files cohbuf takes from Debian's linux-source-6.12 package: the
# kselftest harness, checkpatch, and kernel-doc with its Sphinx extension.
LINUX_SOURCE_FILES="tools/testing/selftests/kselftest_harness.h
tools/testing/selftests/kselftest.h
scripts/checkpatch.pl
scripts/spelling.txt
scripts/const_structs.checkpatch
scripts/kernel-doc
Documentation/sphinx/kerneldoc.py
Documentation/sphinx/kernellog.py"

# The directory holding LINUX_SOURCE_FILES, extracted on first use. Its name
# carries a checksum of the list, so a changed list is extracted afresh into
# a new directory while runs that use the old one go on undisturbed.
linux_source_dir() {
	tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null) ||
		die "linux-source-6.12 is not installed (run scripts/setup)"
	ver=$(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null || echo unknown)
	sum=$(printf '%s\n' "$LINUX_SOURCE_FILES" | cksum | cut -d' ' -f1)
	dir="$COHBUF_CACHE/linux-source/$ver-$sum"
	if [ ! -f "$dir/.ready" ]; then
		log "extracting the kselftest harness, checkpatch and kernel-doc from linux-source-6.12 $ver"
		tmp="$dir.tmp.$$"
		rm -rf "$tmp" && mkdir -p "$tmp"
		# shellcheck disable=SC2046,SC2086 # one member per word
		tar -xJf "$tarball" -C "$tmp" --strip-components=1 \
			$(printf 'linux-source-6.12/%s\n' $LINUX_SOURCE_FILES) ||
			{ rm -rf "$tmp"; die "cannot extract files from $tarball"; }
		touch "$tmp/.ready"
		# A concurrent run may have won: then keep its copy.
		mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
	fi
	printf '%s\n' "$dir"
}

# The module directories of the project, in load order (those that exist).
# heap/ builds a module only for kernels that export dma_heap_add().
module_dirs() {
	for d in exporter importer heap; do
		[ -f "$TOP/$d/Kbuild" ] && printf '%s\n' "$d"
	done
	return 0
}

# The .ko files build_modules made under OUT, in load order.
module_files() {
	cat "$1/modules.list"
}

# The version of cohbuf: dkms.conf's PACKAGE_VERSION.
cohbuf_version() {
	sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf"
}

# The directories a module build needs, copied to DEST (those that exist).
copy_module_sources() {
	for d in exporter importer heap include uapi; do
		[ -d "$TOP/$d" ] && cp -a "$TOP/$d" "$1/"
	done
	return 0
}

# build_modules KVER OUT [negative]: build our modules for one kernel with
# dkms, as cohbuf-dkms does (scripts/vm/dkms-build; module_files lists
# them), and for "negative" the modules of selftests/negative in a private
# copy of the sources under OUT/src (kbuild writes next to them).
build_modules() {
	kver=$1 out=$2 what=${3:-}
	mkdir -p "$out"
	"$TOP/scripts/vm/dkms-build" "$kver" "$out" >"$out/modules.list" 2>"$out/build-dkms.log" ||
		{ cat "$out/build-dkms.log"; return 1; }
	rm -rf "$out/src" && mkdir -p "$out/src"
	[ "$what" = negative ] || return 0
	copy_module_sources "$out/src"
	mkdir -p "$out/src/selftests"
	cp -a "$TOP/selftests/negative" "$out/src/selftests/"
	kmake "$kver" "$out/src" selftests/negative -s modules >"$out/build-negative.log" 2>&1 ||
		{ cat "$out/build-negative.log"; return 1; }
}

. "$TOP/scripts/vm/sid.sh"
