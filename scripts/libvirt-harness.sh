#!/usr/bin/env bash
# Build libvirt 9.0.0's own test programs tests/qemuxml2argvtest and tests/qemuxml2xmltest
# (with the LD_PRELOAD mocks they load) from Debian 12's source package, into a cache
# outside the repository, and print the directory that holds them on stdout.
#
#   scripts/libvirt-harness.sh [--check]
#
# --check only says whether it is built: the directory and exit 0, or exit 3.
# The cache is ${VIRTGOLD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtgold}/libvirt-<version>:
# pkg/ (the .dsc and tarballs), src/ (unpacked, Debian's patches applied, plus
# libvirt-harness.patch from beside this script: a record mode, see its header), build/.
# A later run that finds the build made from the same patch and options prints the
# directory at once. From nothing (root, Debian 12): enables a deb-src line for bookworm
# if none is there, `apt-get source --download-only`, `dpkg-source -x`,
# `apt-get build-dep`, `meson setup`, then ninja builds only the two programs and their
# mocks (a few minutes on 2 cores). Progress goes to stderr; on failure the last line on
# stderr says why, and the exit status is 2.
set -euo pipefail

PKGVER=9.0.0-4+deb12u2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATCH=$HERE/libvirt-harness.patch
CACHE=${VIRTGOLD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtgold}/libvirt-$PKGVER
PKG=$CACHE/pkg
SRC=$CACHE/src
BUILD=$CACHE/build
DSC=$PKG/libvirt_$PKGVER.dsc
TARGETS=(tests/qemuxml2argvtest tests/qemuxml2xmltest
         tests/libqemuxml2argvmock.so tests/libdomaincapsmock.so tests/libvirrandommock.so
         tests/libqemucpumock.so tests/libvirpcimock.so)
# Debian's paths and the features its QEMU driver is built with (debian/rules); the
# drivers linked into libvirt.so that the QEMU tests never touch are left out.
MESON_OPTIONS=(--prefix=/usr --sysconfdir=/etc --localstatedir=/var
  --libdir=lib/x86_64-linux-gnu -Drunstatedir=/run
  -Ddriver_qemu=enabled -Ddriver_libvirtd=enabled -Ddriver_remote=enabled
  -Dremote_default_mode=legacy -Dqemu_user=libvirt-qemu -Dqemu_group=libvirt-qemu
  -Dqemu_moddir=/usr/lib/x86_64-linux-gnu/qemu -Dqemu_datadir=/usr/share/qemu
  -Dyajl=enabled -Dnumactl=enabled -Dnumad=enabled
  -Dtests=enabled -Dexpensive_tests=disabled -Ddocs=disabled -Dnls=disabled
  -Ddriver_test=disabled -Ddriver_esx=disabled -Ddriver_hyperv=disabled
  -Ddriver_vmware=disabled -Ddriver_openvz=disabled -Ddriver_vz=disabled
  -Ddriver_vbox=disabled -Ddriver_libxl=disabled -Ddriver_lxc=disabled
  -Ddriver_bhyve=disabled -Ddriver_ch=disabled
  -Dwireshark_dissector=disabled -Dbash_completion=disabled -Dinit_script=none
  -Ddtrace=disabled -Dhost_validate=disabled -Dnss=disabled -Dlogin_shell=disabled
  -Dsanlock=disabled -Dglusterfs=disabled -Dstorage_gluster=disabled
  -Dstorage_rbd=disabled -Dstorage_iscsi_direct=disabled -Dlibiscsi=disabled)

log() { echo "libvirt-harness: $*" >&2; }
fail() { echo "libvirt-harness: $*" >&2; exit 2; }

[ -f "$PATCH" ] || fail "missing $PATCH"
key=$( { echo "$PKGVER"; printf '%s\n' "${MESON_OPTIONS[@]}" "${TARGETS[@]}"; cat "$PATCH"; } | sha256sum | cut -d' ' -f1)

ready() {
    [ "$(cat "$BUILD/.virtgold-ready" 2>/dev/null)" = "$key" ] || return 1
    local t
    for t in "${TARGETS[@]}"; do [ -x "$BUILD/$t" ] || [ -f "$BUILD/$t" ] || return 1; done
}

if ready; then echo "$BUILD/tests"; exit 0; fi
[ "${1:-}" != --check ] || { echo "libvirt-harness: not built from this patch in $BUILD" >&2; exit 3; }

mkdir -p "$CACHE" || fail "cannot create $CACHE"
# Exclusive: another build, and every run of the programs (harness/harness-lock.ts holds
# the lock shared while a program runs), must be done before the programs are replaced.
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null; then
    flock -n 9 || log "waiting for the runs of the harness in $BUILD (or another build) to finish ($CACHE/.lock)"
    flock -w 3600 9 || fail "another build or run holds $CACHE/.lock"
fi
if ready; then echo "$BUILD/tests"; exit 0; fi   # built by the run we waited for

t0=$SECONDS
as_root() { [ "$(id -u)" = 0 ] || fail "needs root to $1 (or a finished build in $CACHE)"; }
export DEBIAN_FRONTEND=noninteractive

if ! command -v dpkg-source >/dev/null || ! command -v meson >/dev/null || ! command -v ninja >/dev/null; then
    as_root "install dpkg-dev, meson and ninja-build"
    log "installing dpkg-dev, meson, ninja-build"
    apt-get install -y -q --no-install-recommends dpkg-dev meson ninja-build >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends dpkg-dev meson ninja-build >&2; } ||
        fail "cannot install dpkg-dev, meson, ninja-build"
fi

if [ ! -f "$DSC" ]; then
    if ! apt-get indextargets --format '$(CREATED_BY) $(CODENAME)' 2>/dev/null | grep -q '^Sources bookworm$'; then
        as_root "add a deb-src line for bookworm"
        log "adding a deb-src line for bookworm (/etc/apt/sources.list.d/virtgold-deb-src.sources)"
        printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm' \
            'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
            > /etc/apt/sources.list.d/virtgold-deb-src.sources
        apt-get update -q >&2 || fail "apt-get update failed"
    fi
    log "fetching the source package libvirt=$PKGVER"
    mkdir -p "$PKG"
    (cd "$PKG" && apt-get source -q --download-only "libvirt=$PKGVER" >&2) ||
        fail "apt-get source --download-only libvirt=$PKGVER failed"
fi

if [ ! -f "$SRC/meson.build" ]; then
    log "unpacking $(basename "$DSC") (Debian's patches applied)"
    rm -rf "$SRC" "$SRC.tmp" "$BUILD" "$CACHE/applied.patch"
    dpkg-source -x "$DSC" "$SRC.tmp" >"$CACHE/unpack.log" 2>&1 || fail "dpkg-source -x $DSC failed (see $CACHE/unpack.log)"
    mv "$SRC.tmp" "$SRC"
fi

if ! (cd "$SRC" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
    as_root "install libvirt's build dependencies"
    log "installing libvirt's build dependencies (apt-get build-dep)"
    apt-get build-dep -y -q -o DPkg::Lock::Timeout=600 "$DSC" >/dev/null ||
        fail "apt-get build-dep $DSC failed"
fi

if ! cmp -s "$PATCH" "$CACHE/applied.patch"; then
    if [ -f "$CACHE/applied.patch" ]; then
        log "taking back the previous libvirt-harness.patch"
        patch -s -d "$SRC" -p1 -R < "$CACHE/applied.patch" >&2 || fail "cannot revert the old patch in $SRC (remove $CACHE)"
        rm -f "$CACHE/applied.patch"
    fi
    log "applying libvirt-harness.patch"
    patch -s -d "$SRC" -p1 --forward < "$PATCH" >&2 || fail "libvirt-harness.patch does not apply to $SRC (remove $CACHE)"
    cp "$PATCH" "$CACHE/applied.patch"
fi

options=$(printf '%s\n' "${MESON_OPTIONS[@]}")
if [ ! -f "$BUILD/build.ninja" ] || [ "$options" != "$(cat "$CACHE/meson-options" 2>/dev/null)" ]; then
    log "configuring (meson setup; log: $CACHE/meson.log)"
    rm -rf "$BUILD"
    (cd "$SRC" && meson setup "$BUILD" "${MESON_OPTIONS[@]}") >"$CACHE/meson.log" 2>&1 ||
        { tail -5 "$CACHE/meson.log" >&2; fail "meson setup failed (see $CACHE/meson.log)"; }
    echo "$options" > "$CACHE/meson-options"
fi

log "building ${TARGETS[*]} (log: $CACHE/ninja.log)"
nice -n 10 ninja -C "$BUILD" -j"$(nproc)" "${TARGETS[@]}" >"$CACHE/ninja.log" 2>&1 ||
    { tail -20 "$CACHE/ninja.log" >&2; fail "the build failed (see $CACHE/ninja.log)"; }
echo "$key" > "$BUILD/.virtgold-ready"
log "ready in $((SECONDS - t0)) s: $BUILD/tests"
echo "$BUILD/tests"
