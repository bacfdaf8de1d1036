# SPDX-License-Identifier: GPL-2.0
# Sourced by lib.sh, so it has no #! line of its own:
# shellcheck shell=sh
#
# The newest Debian kernel, from Debian unstable ("sid"), sourced by lib.sh.
#
# The host stays a Debian 12 machine: sid's package lists live in a private
# apt configuration under $COHBUF_CACHE/apt-sid (own sources list, state and
# cache folders; the host's apt setup is never touched), and sid's kernel
# image is downloaded and extracted like the others.  Sid's kbuild tools are
# linked against a newer glibc than Debian 12's, so modules for it are built
# in a Debian sid chroot made with debootstrap under $COHBUF_CACHE/chroot-sid,
# where apt installs the kernel's headers package and the compiler it names
# (and brings linux-libc-dev, the uapi headers of the upstream selftests, up
# to date with it).
#
# The mirror is the one the host's apt already uses for bookworm
# (COHBUF_SID_MIRROR overrides it).

SID_APT="$COHBUF_CACHE/apt-sid"
SID_ROOT="$COHBUF_CACHE/chroot-sid"
# Lists older than this many minutes are refreshed (failures fall back to
# the old lists, so a warm cache works offline).
SID_LISTS_MAX_AGE=${SID_LISTS_MAX_AGE:-720}

is_sid_series() { case "$1" in sid|sid-rt) return 0 ;; *) return 1 ;; esac; }

# The Debian mirror of the host's bookworm sources.
sid_mirror() {
	if [ -n "${COHBUF_SID_MIRROR:-}" ]; then
		printf '%s\n' "$COHBUF_SID_MIRROR"
		return
	fi
	host_suite_uri bookworm || die "no bookworm mirror in the host's apt sources (set COHBUF_SID_MIRROR)"
}

# apt-get or apt-cache ($1) on the private sid configuration.
sid_apt() { private_apt "$SID_APT" amd64 "$@"; }

# Make sid's package lists present and not older than SID_LISTS_MAX_AGE.
sid_lists() {
	if [ ! -f "$SID_APT/sources.list" ]; then
		mkdir -p "$SID_APT"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(sid_mirror) sid main" \
			> "$SID_APT/sources.list"
	fi
	private_lists "$SID_APT" sid_apt "$SID_LISTS_MAX_AGE" sid
}

# Newest sid kernel of a flavour in the private lists, or nothing.
sid_newest_kver() {
	sid_lists
	sid_apt apt-cache pkgnames linux-image- 2>/dev/null |
		grep -E "^linux-image-[0-9]+\\.[0-9]+[^ ]*-$(series_flavour "$1")(-unsigned)?\$" |
		flavour_filter "$1" | sed -e 's/^linux-image-//' -e 's/-unsigned$//' |
		sort -u -V | tail -n 1
}

# Value of an option in the host's apt configuration, or DEFAULT.
host_apt_option() {
	v=$(apt-config dump "$1" 2>/dev/null | sed -n "s/^$1 \"\(.*\)\";\$/\1/p")
	printf '%s\n' "${v:-$2}"
}

# Run a command in the sid chroot, with HOSTDIR bound at /work inside it and
# /proc mounted (objtool reads it), in a private mount namespace that
# disappears with the command: nothing stays mounted on the host.
sid_run() {
	hostdir=$1
	shift
	# shellcheck disable=SC2016 # the inner shell expands its own arguments
	unshare --mount --propagation private sh -c '
		root=$1 dir=$2
		shift 2
		mount -t proc proc "$root/proc" && mount --bind "$dir" "$root/work" &&
			exec chroot "$root" "$@"' sid_run "$SID_ROOT" "$hostdir" "$@"
}

# Debian's headers packages lack scripts/checker-valid.sh, with which kbuild
# (6.13 on) decides whether C=1/C=2 may run sparse; without it kbuild
# quietly skips sparse. Supply one: the checker is valid if it runs.
sid_checker_valid() {
	for scripts in "$SID_ROOT"/usr/src/linux-headers-*/scripts; do
		[ -f "$scripts/Makefile.build" ] || continue
		[ -e "$scripts/checker-valid.sh" ] && continue
		cat > "$scripts/checker-valid.sh" <<'EOF'
#!/bin/sh
# Written by cohbuf's rig (scripts/vm/sid.sh): Debian's headers package does
# not ship this kbuild helper. Prints 1 if the checker ("$@") runs.
"$@" -E /dev/null >/dev/null 2>&1 && echo 1
EOF
		chmod 755 "$scripts/checker-valid.sh"
	done
}

# Make the chroot exist and hold the headers of KVER (and the compiler they
# depend on), serialised between concurrent jobs.
sid_chroot_ready() {
	kver=$1
	[ -f "$SID_ROOT/.ready" ] && [ -f "$SID_ROOT/usr/src/.cohbuf-$kver" ] && return 0
	command -v debootstrap >/dev/null || die "debootstrap is not installed (run scripts/setup)"
	mkdir -p "$COHBUF_CACHE"
	(
		flock 9
		if [ ! -f "$SID_ROOT/.ready" ]; then
			log "making a Debian sid chroot in $SID_ROOT (debootstrap)"
			rm -rf "$SID_ROOT"
			debootstrap --variant=minbase --include=make,libc6-dev,sparse,kmod,ca-certificates \
				sid "$SID_ROOT" "$(sid_mirror)" >"$COHBUF_CACHE/debootstrap.log" 2>&1 ||
				{ tail -n 20 "$COHBUF_CACHE/debootstrap.log" >&2; die "debootstrap of sid failed"; }
			mkdir -p "$SID_ROOT/work"
			touch "$SID_ROOT/.ready"
		fi
		if [ ! -f "$SID_ROOT/usr/src/linux-headers-$kver/Makefile" ]; then
			log "installing linux-headers-$kver in the sid chroot"
			cp /etc/resolv.conf "$SID_ROOT/etc/resolv.conf" 2>/dev/null
			# The chroot follows the host's apt on the age of release
			# files (a mirror may serve a frozen snapshot).
			set -- -o Acquire::Check-Valid-Until="$(host_apt_option Acquire::Check-Valid-Until true)" \
				-o Acquire::Check-Date="$(host_apt_option Acquire::Check-Date true)"
			{ chroot "$SID_ROOT" apt-get -q "$@" update &&
				DEBIAN_FRONTEND=noninteractive chroot "$SID_ROOT" apt-get -q "$@" install -y \
					--no-install-recommends "linux-headers-$kver" linux-libc-dev; } \
				>"$COHBUF_CACHE/chroot-sid-apt.log" 2>&1 ||
				{ tail -n 20 "$COHBUF_CACHE/chroot-sid-apt.log" >&2; die "cannot install linux-headers-$kver in the sid chroot"; }
		fi
		sid_checker_valid
		touch "$SID_ROOT/usr/src/.cohbuf-$kver"
	) 9>"$COHBUF_CACHE/chroot-sid.lock"
}
