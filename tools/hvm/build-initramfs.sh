#!/bin/sh
# Builds a gzip'd newc initramfs for HVM tests: busybox-static as /bin/busybox, the caller's script as
# /init, kernel modules (with what they need first) under /mod with their load order in /mod/order, and
# extra files. Debian's kernel has virtio_blk/virtio_net as modules, so a disk test needs them.
#
# usage: build-initramfs.sh OUT.cpio.gz INIT-SCRIPT [-k KVER] [-m "mod1 mod2 …"] [-f SRC:DEST]…
#   -k KVER   kernel release whose /lib/modules to copy from (default: the newest /boot/vmlinuz-*)
#   -m MODS   modules to load, in order (e.g. "virtio_ring virtio virtio_pci_modern_dev
#             virtio_pci_legacy_dev virtio_pci virtio_blk"); /init loads them with
#             `for m in $(cat /mod/order); do insmod /mod/$m.ko; done`
#   -f S:D    copy file S to D inside the image (repeatable)
set -eu

die() { echo "build-initramfs: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 OUT.cpio.gz INIT-SCRIPT [-k KVER] [-m MODS] [-f SRC:DEST]…"
out=$1; init=$2; shift 2
[ -f "$init" ] || die "init script $init does not exist"
kver=""; mods=""; files=""
while [ $# -gt 0 ]; do
  case "$1" in
    -k) kver=$2; shift 2 ;;
    -m) mods=$2; shift 2 ;;
    -f) files="$files
$2"; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done

# A dynamically linked busybox would not run in the image: take the first one without NEEDED libraries
# (readelf, when there is one to ask).
bb=""
for c in /bin/busybox /usr/bin/busybox; do
  [ -x "$c" ] || continue
  if command -v readelf >/dev/null && LC_ALL=C readelf -d "$c" 2>/dev/null | grep -q NEEDED; then continue; fi
  bb=$c; break
done
[ -n "$bb" ] || die "no static busybox (apt-get install busybox-static)"
command -v cpio >/dev/null || die "cpio is missing (apt-get install cpio)"

if [ -n "$mods" ] && [ -z "$kver" ]; then
  k=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
  [ -n "$k" ] || die "no /boot/vmlinuz-* to take modules for (apt-get install linux-image-amd64)"
  kver=${k#/boot/vmlinuz-}
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/mod" "$root/tmp"
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$init" "$root/init"
chmod 755 "$root/init"
: > "$root/mod/order"
for m in $mods; do
  f=$(find "/lib/modules/$kver/kernel" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" \) 2>/dev/null | head -n 1)
  [ -n "$f" ] || die "module $m not found under /lib/modules/$kver/kernel"
  case "$f" in
    *.ko) cp "$f" "$root/mod/$m.ko" ;;
    *.ko.xz) xz -dc "$f" > "$root/mod/$m.ko" ;;
    *.ko.zst) zstd -qdc "$f" > "$root/mod/$m.ko" ;;
  esac
  echo "$m" >> "$root/mod/order"
done
echo "$files" | while IFS= read -r spec; do
  [ -n "$spec" ] || continue
  src=${spec%%:*}; dest=${spec#*:}
  [ -f "$src" ] || die "file $src does not exist"
  mkdir -p "$root/$(dirname "$dest")"
  cp "$src" "$root/$dest"
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
