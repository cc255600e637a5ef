#!/usr/bin/env bash
# The demo of the ARM builds: the demo (examples/demo.rs, built for this machine: two
# `tipring run` gateways on simulated line cards carry a call, tones measured) runs the
# real aarch64 and armv7 `tipring` binaries as its gateways under qemu-user, and fails if
# either demo fails. Called by scripts/test.sh
# after its ARM cross builds; can be run alone.
# Usage: scripts/arm-demo.sh [TARGET...]
#        (default: aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
#
# How it runs:
# - The debug builds of test.sh's "ARM cross builds" step, built by the same command here
#   (a no-op when test.sh has just built them): dynamically linked, as shipped. A static
#   (crt-static) build is not possible: Debian ships no static libasound.
# - qemu is given no -L prefix (as in .cargo/config.toml's runners): the binaries' loader
#   /lib/ld-linux-aarch64.so.1 (/lib/ld-linux-armhf.so.3) and libraries are the multiarch
#   libc6:arm64 (libc6:armhf) ones. With -L /usr/aarch64-linux-gnu the loader is
#   libc6-arm64-cross's (2.36-8cross1) while the host's ld.so.cache hands it libc6:arm64's
#   libc.so.6 (2.36-9+deb12uN): the mismatched pair hangs in the first pthread_create.
# - The kernel need not run ARM binaries (no binfmt_misc entry is assumed; none is
#   registered on the CI machine), so the demo starts its two gateways through qemu:
#   `demo --gateway target/aarch64-unknown-linux-gnu/debug/tipring --runner qemu-aarch64`.
# - qemu-user (7.2, and upstream up to at least 10.1) lacks the termios2 ioctls, so the
#   gateways open their line card's PTY through the hal driver's classic-termios fallback
#   rather than serialport's termios2 path used on the boxes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
native_deps
cross_deps

cargo build --locked --example demo
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)

for target in "${targets[@]}"; do
    case $target in
        aarch64-*) multiarch=aarch64-linux-gnu qemu=qemu-aarch64 ;;
        armv7-*) multiarch=arm-linux-gnueabihf qemu=qemu-arm ;;
        *) echo "arm-demo: unknown target $target" >&2; exit 2 ;;
    esac
    started=$SECONDS
    PKG_CONFIG_ALLOW_CROSS=1 PKG_CONFIG_LIBDIR=/usr/lib/$multiarch/pkgconfig \
        cargo build --workspace --locked --target "$target"
    printf -- '--- the demo, %s gateways under %s\n' "$target" "$qemu"
    # The demo bounds each of its steps; the timeout only guards against an emulator hang
    # (it signals the whole process group: the gateways too).
    if ! env -u QEMU_LD_PREFIX timeout --kill-after=10 180 \
        target/debug/examples/demo --gateway "target/$target/debug/tipring" --runner "$qemu"; then
        echo "arm-demo: the $target demo failed under $qemu" >&2
        exit 1
    fi
    printf -- '--- %s demo: %d s (build and run)\n' "$target" $((SECONDS - started))
done
