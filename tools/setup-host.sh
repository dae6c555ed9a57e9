#!/usr/bin/env bash
# Make sure the Debian packages pyvirt needs are installed: installs them with
# apt-get when running as root, otherwise names exactly what is missing.
#
#   tools/setup-host.sh build|test|bench
#
# build: the embedded interpreter (Debian's python3 3.11 with its cffi and lxml,
#        which the shim links and loads) and a C toolchain.
# test:  also the reference libvirt 9.0, its headers and python3-libvirt, the
#        peers our library is checked against.
# bench: also libvirt-daemon-system (its sysv flavour: no systemd upgrade), whose
#        postinst creates the libvirt-qemu user that libvirt 9.0's QEMU driver
#        resolves even when qemu.conf says user = "root"; `make bench` runs real
#        libvirt's qemu:///embed and two libvirtd instances with it.  Its
#        services are kept from starting (policy-rc.d) while it installs.
set -euo pipefail

build_pkgs=(gcc make pkg-config python3 python3-dev python3-venv python3-cffi python3-lxml)
test_pkgs=(libvirt0 libvirt-dev python3-libvirt libvirt-clients libvirt-daemon
           libvirt-daemon-driver-qemu libvirt-doc golang-go golang-github-libvirt-libvirt-go-dev
           qemu-system-x86 libperl-dev libsys-virt-perl ocaml-nox ocaml-findlib)

bench_pkgs=(libvirt-daemon-system libvirt-daemon-system-sysv)

want=("${build_pkgs[@]}")
case "${1:-build}" in
    test)  want+=("${test_pkgs[@]}") ;;
    bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "pyvirt needs these Debian packages, which are not installed:" >&2
    echo "    ${missing[*]}" >&2
    echo "Install them as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "  apt   installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ ! -e /usr/sbin/policy-rc.d ]; then
    # no daemon may start from a package's postinst (libvirtd, virtlogd)
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
