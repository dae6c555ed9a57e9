#!/usr/bin/env bash
# Make sure the Debian packages pyvirt needs are installed: installs them with
# apt-get when running as root, otherwise names exactly what is missing.
#
#   tools/setup-host.sh build|test
#
# build: the embedded interpreter (Debian's python3 3.11 with its cffi and lxml,
#        which the shim links and loads) and a C toolchain.
# test:  also the reference libvirt 9.0, its headers and python3-libvirt, the
#        peers our library is checked against.
set -euo pipefail

build_pkgs=(gcc make pkg-config python3 python3-dev python3-venv python3-cffi python3-lxml)
test_pkgs=(libvirt0 libvirt-dev python3-libvirt libvirt-clients libvirt-daemon
           libvirt-daemon-driver-qemu libvirt-doc golang-go golang-github-libvirt-libvirt-go-dev
           qemu-system-x86 libperl-dev libsys-virt-perl ocaml-nox ocaml-findlib)

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")

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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
