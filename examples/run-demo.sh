#!/usr/bin/env bash
# make demo: the same steps in C and in Python on pyvirt's libvirt.so.0.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

echo "== C: examples/demo.c, compiled against pyvirt's headers, linked with -lvirt"
gcc -Wall -o "$build/demo" "$here/demo.c" -I"$build/include" -L"$build/lib" -lvirt -pthread
LD_LIBRARY_PATH="$build/lib" "$build/demo"

echo
echo "== Python: examples/demo.py on pyvirt's own \`import libvirt\` (no C in between)"
PYTHONPATH="$build/python" /usr/bin/python3 "$here/demo.py"
