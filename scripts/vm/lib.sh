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
# with "-rt" for the PREEMPT_RT flavour; "6.1-arm64" and "6.12-arm64", Debian
# 12's arm64 kernels (from private arm64 lists, see arm64.sh), booted under
# qemu-system-aarch64; and "debug": a kernel with KASAN, lockdep, kmemleak,
# DMA-API debugging and fault injection that the rig builds itself from
# linux-source-6.12 (build-debug-kernel).  An x86 series may end in
# "-iommu" ("6.12-iommu", "sid-iommu"): the same kernel booted a second
# time behind QEMU's intel-iommu, running only the edu device's tests; an
# arm64 one in "-smmu" ("6.12-arm64-smmu"): the same behind QEMU's SMMUv3.

COHBUF_CACHE=${COHBUF_CACHE:-${HOME:-/root}/.cache/cohbuf}
# The top of the source tree, from wherever the sourcing script lives.
TOP=$(cd "$(dirname "$0")" && while [ ! -f scripts/vm/lib.sh ] && [ "$PWD" != / ]; do
	cd ..; done; pwd)

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The kernel series of a boot variant ("6.12" for "6.12-iommu",
# "6.12-arm64" for "6.12-arm64-smmu"), and the variant ("iommu", "smmu",
# or nothing).
series_base() { sb=${1%-iommu}; printf '%s\n' "${sb%-smmu}"; }
series_variant() { case "$1" in *-iommu) echo iommu ;; *-smmu) echo smmu ;; esac; }

# A series is "6.1", "6.12", ... optionally with "-rt" for the PREEMPT_RT
# flavour and then "-arm64" for Debian's arm64 kernels: the architecture,
# the flavour's suffix of kernel releases and the regex of the series'
# version prefix.
series_arch() { case "$1" in *-arm64) echo arm64 ;; *) echo amd64 ;; esac; }
series_flavour() {
	case "${1%-arm64}" in
	*-rt) echo "rt-$(series_arch "$1")" ;;
	*) series_arch "$1" ;;
	esac
}
series_re() { printf '%s' "${1%-arm64}" | sed -e 's/-rt$//' -e 's/\./\\./g'; }

# Keep only the kernel releases of the series' flavour (stdin to stdout).
flavour_filter() {
	case "$(series_flavour "$1")" in
	rt-*) grep -v -e '-cloud-' ;;
	*) grep -v -e '-rt-' -e '-cloud-' ;;
	esac
}

# apt-get or apt-cache ($2) for a series ($1): on the private lists of
# Debian unstable or of arm64, or on the host's.
series_apt() {
	sa_series=$1
	shift
	if is_sid_series "$sa_series"; then
		sid_apt "$@"
	elif [ "$(series_arch "$sa_series")" = arm64 ]; then
		arm64_lists && arm64_apt "$@"
	else
		"$@"
	fi
}

# Newest linux-image package of a series known to apt, as a kernel release
# string (e.g. 6.1.0-56-amd64, 6.12.117+deb12-rt-amd64), or nothing.
apt_newest_kver() {
	re="^linux-image-$(series_re "$1")\\.[0-9][^ ]*-$(series_flavour "$1")-unsigned\$"
	series_apt "$1" apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$re" |
		flavour_filter "$1" | sed -e 's/^linux-image-//' -e 's/-unsigned$//' |
		sort -V | tail -n 1
}

# The architecture a kernel release runs on (arm64 releases end in -arm64).
kernel_arch() { case "$1" in *-arm64) echo arm64 ;; *) echo amd64 ;; esac; }

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
	elif [ "$(kernel_arch "$km_kver")" = arm64 ]; then
		# 6.1's headers do not choose the cross compiler themselves.
		make -C "$(kernel_kdir "$km_kver")" M="$km_dir/$km_sub" ARCH=arm64 \
			CROSS_COMPILE="$ARM64_CROSS" "$@"
	else
		make -C "$(kernel_kdir "$km_kver")" M="$km_dir/$km_sub" "$@"
	fi
}
kernel_image() { printf '%s\n' "$COHBUF_CACHE/kernels/$1/root/boot/vmlinuz-$1"; }

# The URI of the host's apt source for a Debian suite (deb822 or one-line
# format), or fail.
host_suite_uri() {
	hs=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$1" '
		/^URIs:/ { uri = $2 }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) { print uri; exit } }')
	[ -n "$hs" ] || hs=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk -v s="$1" '$1 == "deb" {
			i = 2
			if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) == s) { print $i; exit }
		}')
	[ -n "$hs" ] || return 1
	printf '%s\n' "$hs"
}

# private_apt DIR ARCH TOOL ARGS...: apt-get or apt-cache (TOOL) on the
# private apt configuration in DIR (its own sources.list, state and cache;
# the host's apt state is never touched), for packages of ARCH (for arm64,
# amd64 packages too, as NAME:amd64).
private_apt() {
	pa_dir=$1 pa_arch=$2 pa_tool=$3
	shift 3
	pa_archs=$pa_arch
	[ "$pa_arch" = amd64 ] || pa_archs="$pa_arch,amd64"
	"$pa_tool" -q -o Dir::Etc::SourceList="$pa_dir/sources.list" \
		-o Dir::Etc::SourceParts="$pa_dir/none" \
		-o Dir::Etc::Preferences="$pa_dir/none" \
		-o Dir::Etc::PreferencesParts="$pa_dir/none" -o Dir::State="$pa_dir/state" \
		-o Dir::Cache="$pa_dir/cache" -o APT::Architecture="$pa_arch" \
		-o APT::Architectures="$pa_archs" -o Acquire::Languages=none \
		-o APT::Sandbox::User=root "$@"
}

# private_lists DIR APT MAX_AGE NAME: refresh the package lists of the
# private configuration in DIR with APT (a function running private_apt)
# when they are older than MAX_AGE minutes.  A failed update falls back
# to the old lists, so a warm cache works offline.
private_lists() {
	pl_dir=$1 pl_apt=$2 pl_age=$3 pl_name=$4
	mkdir -p "$pl_dir/state/lists/partial" "$pl_dir/cache/archives/partial" "$pl_dir/none"
	stamp="$pl_dir/state/.updated"
	if [ -f "$stamp" ] && [ -z "$(find "$stamp" -mmin +"$pl_age")" ]; then
		return 0
	fi
	(
		flock 9
		[ -f "$stamp" ] && [ -z "$(find "$stamp" -mmin +"$pl_age")" ] && exit 0
		if "$pl_apt" apt-get update >"$pl_dir/update.log" 2>&1; then
			touch "$stamp"
		else
			log "apt-get update for $pl_name failed (see $pl_dir/update.log); using the lists there are"
		fi
	) 9>"$pl_dir/.lock"
}

# The downloaded .deb of NAME=VERSION for ARCH (or "all") in DIR, or nothing.
cached_deb() {
	cd_ver=$(printf '%s' "$3" | sed 's/:/%3a/')
	for f in "$1/${2}_${cd_ver}_$4.deb" "$1/${2}_${cd_ver}_all.deb"; do
		[ -f "$f" ] && { printf '%s\n' "$f"; return 0; }
	done
	return 0
}

# download_deb SERIES NAME VERSION ARCH: download NAME=VERSION of ARCH
# into $COHBUF_CACHE/debs with the series' apt (series_apt) unless it is
# there already; prints the path.
download_deb() {
	dd_series=$1 dd_name=$2 dd_version=$3 dd_arch=$4
	dd_debs="$COHBUF_CACHE/debs"
	mkdir -p "$dd_debs"
	dd_file=$(cached_deb "$dd_debs" "$dd_name" "$dd_version" "$dd_arch")
	if [ -z "$dd_file" ]; then
		log "downloading $dd_name $dd_version ($dd_arch)"
		dd_pkg=$dd_name
		[ "$(series_arch "$dd_series")" = "$dd_arch" ] || dd_pkg="$dd_name:$dd_arch"
		(cd "$dd_debs" && series_apt "$dd_series" apt-get -q download "$dd_pkg=$dd_version" \
			>/dev/null 2>"$dd_debs/.err.$$") ||
			{ cat "$dd_debs/.err.$$" >&2; rm -f "$dd_debs/.err.$$"
			  die "apt-get download $dd_pkg=$dd_version failed (try apt-get update)"; }
		rm -f "$dd_debs/.err.$$"
		dd_file=$(cached_deb "$dd_debs" "$dd_name" "$dd_version" "$dd_arch")
		[ -n "$dd_file" ] || die "apt-get download $dd_pkg=$dd_version left no .deb"
	fi
	printf '%s\n' "$dd_file"
}

# Field of a package's candidate version in the series' apt lists.
pkg_field() {
	series_apt "$1" apt-cache show --no-all-versions "$2" 2>/dev/null |
		sed -n "s/^$3: //p" | head -n 1
}

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

# arch_dir BUILD ARCH DIR: where build_for puts DIR's programs for ARCH.
arch_dir() {
	if [ "$2" = amd64 ]; then
		printf '%s\n' "$1/$3"
	else
		printf '%s\n' "$1/$2/$3"
	fi
}
# The static test programs for ARCH (with the tool, the list and the env file).
selftests_dir() { arch_dir "$1" "$2" selftests; }

# build_for BUILD ARCH DIR [TARGETS...]: make DIR (selftests or userspace)
# for ARCH into arch_dir (for arm64 with the cross compiler and the arm64
# sysroot).  The selftests' build makes the user space next to them.
build_for() {
	bf_out=$(arch_dir "$1" "$2" "$3") bf_arch=$2 bf_dir=$3
	shift 3
	if [ "$bf_arch" = arm64 ]; then
		arm64_make "$bf_dir" "$bf_out" "$@"
	else
		make -s -C "$TOP/$bf_dir" OUT="$bf_out" "$@"
	fi
}
build_selftests() {
	bs_build=$1 bs_arch=$2
	shift 2
	build_for "$bs_build" "$bs_arch" selftests "$@"
}

# The architectures of a list of kernel series, each once.
series_archs() {
	for sa in "$@"; do
		series_arch "$(series_base "$sa")"
	done | sort -u
}

# The module directories of the project, in load order (those that exist).
# heap/ builds a module only for kernels that export dma_heap_add(),
# iio/ only for kernels with IIO buffers.
module_dirs() {
	for d in exporter importer heap iio; do
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
	for d in exporter importer heap iio include uapi; do
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
. "$TOP/scripts/vm/arm64.sh"
