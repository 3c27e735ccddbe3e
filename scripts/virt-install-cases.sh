#!/bin/bash
# Regenerates cases/virt-install/: the domains Debian 12's virt-install (virtinst 4.1.0)
# writes for common guests, from `virt-install --print-xml --dry-run`. Each run prints two
# domains when installing from a CD-ROM: NAME-install.xml (the install boot) and NAME.xml
# (the installed guest). virt-install picks a random UUID and MAC: they are replaced by
# ones derived from the case name, so that regenerating changes nothing else.
# Needs virtinst and a running libvirtd (scripts/setup-libvirt); run as root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/cases/virt-install"
command -v virt-install >/dev/null || { echo "virt-install-cases: install virtinst first (apt-get install --no-install-recommends virtinst)" >&2; exit 2; }
"$root/scripts/setup-libvirt" >/dev/null
# virt-install looks at the install media and the disk's directory through storage pools
mkdir -p /var/lib/libvirt/images
touch /var/lib/libvirt/images/install.iso

# name|extra arguments (every guest: 2 GiB, 2 vCPUs, a 10 GiB qcow2 disk, the CD-ROM, the default network)
variants=(
  "debian11-q35-spice|--os-variant debian11"
  "debian11-pc-vnc|--os-variant debian11 --machine pc --graphics vnc"
  "fedora37-tpm|--os-variant fedora37 --tpm default"
  "ubuntu22.04-vnc-nosound|--os-variant ubuntu22.04 --graphics vnc --sound none"
  "win10-q35-spice|--os-variant win10"
  "win11-efi|--os-variant win11"
  "win2k19-pc-vnc|--os-variant win2k19 --machine pc --graphics vnc"
)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for v in "${variants[@]}"; do
  name=${v%%|*}; args=${v#*|}
  # shellcheck disable=SC2086
  virt-install --connect qemu:///system --print-xml --dry-run --name "$name" --memory 2048 --vcpus 2 \
    --disk "path=/var/lib/libvirt/images/$name.qcow2,size=10,format=qcow2" \
    --cdrom /var/lib/libvirt/images/install.iso --network network=default $args > "$tmp/$name.xml"
  h=$(printf '%s' "$name" | md5sum | cut -c1-32)
  uuid="${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"
  mac="52:54:00:${h:0:2}:${h:2:2}:${h:4:2}"
  # (an XML comment cannot hold "--": the options are written without their dashes)
  awk -v dir="$out" -v name="$name" -v args="${args//--/}" '
    /^<domain/ { n++; file = dir "/" name (n == 1 ? "-install" : "") ".xml";
                 print "<!-- scripts/virt-install-cases.sh: virt-install print-xml dry-run name " name " memory 2048 vcpus 2 disk cdrom network=default " args " -->" > file }
    { print > file }' "$tmp/$name.xml"
  sed -i -E "s#<uuid>[^<]*</uuid>#<uuid>$uuid</uuid>#; s#<mac address=\"[^\"]*\"/>#<mac address=\"$mac\"/>#" "$out/$name-install.xml" "$out/$name.xml"
  echo "virt-install-cases: $name"
done
