#!/usr/bin/env bash
# Runs a program from build/64 or build/32. A 32-bit program runs natively where the kernel can execute
# 32-bit x86 binaries (its build's native_probe runs), and otherwise under user-mode emulation,
# `qemu-i386 -L /` (Debian package qemu-user): some kernels are built without IA32 emulation (ENOEXEC).
#   usage: run.sh PROGRAM [ARGS...]
#          run.sh --check BUILD_DIR     prints native, qemu-i386 or none; exit 0 unless none
set -uo pipefail

how() {
    if "$1/native_probe" 2>/dev/null; then
        echo native
    elif command -v qemu-i386 >/dev/null && qemu-i386 -L / "$1/native_probe" 2>/dev/null; then
        echo qemu-i386
    else
        echo none
    fi
}

if [ "${1:-}" = --check ] && [ $# -eq 2 ]; then
    mode=$(how "$2"); echo "$mode"; [ "$mode" != none ]; exit
fi
if [ $# -lt 1 ]; then
    echo "usage: run.sh PROGRAM [ARGS...] | run.sh --check BUILD_DIR" >&2
    exit 2
fi
prog=$1; shift
case $(how "$(dirname "$prog")") in
native) exec "$prog" "$@" ;;
qemu-i386) exec qemu-i386 -L / "$prog" "$@" ;;
*) echo "run.sh: $prog: this kernel cannot run it and qemu-i386 is missing (apt-get install qemu-user)" >&2; exit 126 ;;
esac
