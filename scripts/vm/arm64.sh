# SPDX-License-Identifier: GPL-2.0
# Sourced by lib.sh, so it has no #! line of its own:
# shellcheck shell=sh
#
# Debian 12's arm64 kernels ("6.1-arm64", "6.12-arm64"), sourced by lib.sh.
#
# Their packages come through a private apt configuration under
# $COHBUF_CACHE/apt-arm64 (own sources list with the host's bookworm,
# bookworm-updates and bookworm-security mirrors, own state and cache; the
# host's apt setup is never touched), which knows the amd64 packages too:
# the kernel's kbuild tools are the amd64 linux-kbuild package of the same
# version, and the modules are cross-built with gcc-aarch64-linux-gnu.
# The selftests and the tool are static arm64 programs, linked against the
# arm64 libdrm of a sysroot that arm64_sysroot extracts into the cache with
# the arm64 busybox of the guests' initramfs.  The guests boot under
# qemu-system-aarch64 -M virt (scripts/vm/boot).

ARM64_APT="$COHBUF_CACHE/apt-arm64"
ARM64_CROSS=${ARM64_CROSS:-aarch64-linux-gnu-}
# Lists older than this many minutes are refreshed.
ARM64_LISTS_MAX_AGE=${ARM64_LISTS_MAX_AGE:-720}
# The packages of the arm64 sysroot: libdrm for the tests, busybox for init.
ARM64_SYSROOT_PKGS="libdrm-dev libdrm2 busybox-static"

arm64_apt() { private_apt "$ARM64_APT" arm64 "$@"; }

# Make the arm64 package lists present and not older than ARM64_LISTS_MAX_AGE.
arm64_lists() {
	if [ ! -f "$ARM64_APT/sources.list" ]; then
		mkdir -p "$ARM64_APT"
		for suite in bookworm bookworm-updates bookworm-security; do
			uri=$(host_suite_uri "$suite") || continue
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main"
		done > "$ARM64_APT/sources.list.tmp"
		grep -q ' bookworm main$' "$ARM64_APT/sources.list.tmp" ||
			die "no bookworm mirror in the host's apt sources"
		mv "$ARM64_APT/sources.list.tmp" "$ARM64_APT/sources.list"
	fi
	private_lists "$ARM64_APT" arm64_apt "$ARM64_LISTS_MAX_AGE" arm64
}

# The arm64 sysroot (libdrm's headers, libraries and .pc files; busybox),
# extracted once per set of package versions; prints its path.
arm64_sysroot() {
	arm64_lists
	as_list=
	for p in $ARM64_SYSROOT_PKGS; do
		v=$(pkg_field 6.12-arm64 "$p" Version)
		[ -n "$v" ] || die "the arm64 lists do not know $p (see $ARM64_APT/update.log)"
		as_list="$as_list $p=$v"
	done
	as_dir="$COHBUF_CACHE/arm64/sysroot-$(printf '%s\n' "$as_list" | cksum | cut -d' ' -f1)"
	if [ ! -f "$as_dir/.ready" ]; then
		mkdir -p "$COHBUF_CACHE/arm64"
		(
			flock 9
			[ -f "$as_dir/.ready" ] && exit 0
			rm -rf "$as_dir" && mkdir -p "$as_dir"
			for pv in $as_list; do
				deb=$(download_deb 6.12-arm64 "${pv%%=*}" "${pv#*=}" arm64) || exit 1
				log "extracting $(basename "$deb") into the arm64 sysroot"
				dpkg-deb -x "$deb" "$as_dir" || exit 1
			done
			printf "%s\n" "$as_list" > "$as_dir/PACKAGES"
			touch "$as_dir/.ready"
		) 9>"$COHBUF_CACHE/arm64/.lock" || die "cannot make the arm64 sysroot"
	fi
	printf '%s\n' "$as_dir"
}

# arm64_make DIR OUT [TARGETS...]: make in DIR (selftests or userspace)
# static arm64 programs, against the sysroot's libdrm.
arm64_make() {
	am_root=$(arm64_sysroot) || return 1
	am_dir=$1 am_out=$2
	shift 2
	PKG_CONFIG_SYSROOT_DIR=$am_root \
		PKG_CONFIG_LIBDIR=$am_root/usr/lib/aarch64-linux-gnu/pkgconfig \
		make -s -C "$TOP/$am_dir" OUT="$am_out" CC="${ARM64_CROSS}gcc" \
		AR="${ARM64_CROSS}ar" NM="${ARM64_CROSS}nm" "$@"
}

# The busybox of a guest's initramfs: the host's for amd64, the arm64
# sysroot's for arm64.
guest_busybox() {
	if [ "$(kernel_arch "$1")" = arm64 ]; then
		printf '%s\n' "$(arm64_sysroot)/bin/busybox"
	else
		printf '%s\n' /bin/busybox
	fi
}
