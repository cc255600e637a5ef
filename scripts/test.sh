#!/usr/bin/env bash
# The whole test suite: installs what it needs, then formatting, lints, every test, the
# ARM cross builds (aarch64 and armv7) with their demo, the Debian packages of all three
# architectures (lintian, install, purge), and the sip tests run under qemu.
# Usage: scripts/test.sh            (from anywhere inside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
test_deps

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (x86_64)"
cargo test --workspace --locked

step "ARM cross builds"
for target in aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
    case $target in
        aarch64-*) multiarch=aarch64-linux-gnu ;;
        armv7-*) multiarch=arm-linux-gnueabihf ;;
    esac
    PKG_CONFIG_ALLOW_CROSS=1 PKG_CONFIG_LIBDIR=/usr/lib/$multiarch/pkgconfig \
        cargo build --workspace --locked --target "$target"
done

step "the ARM binaries' demo under qemu-user (aarch64, armv7)"
scripts/arm-demo.sh

step "Debian packages (amd64, arm64, armhf): built, lintian, installed, purged"
scripts/package-test.sh debug

step "hal wire codec without std, for a line-card MCU (thumbv7em-none-eabihf)"
cargo build -p tipring-hal --no-default-features --locked --target thumbv7em-none-eabihf

step "sip tests on aarch64 under qemu-aarch64"
# Dynamically linked, run by .cargo/config.toml's runner (qemu-aarch64 with no -L prefix:
# the multiarch libc6:arm64 loader and libc; see scripts/arm-demo.sh for why not -L).
# Its tests use the dev-only testkit, which builds hal (and ALSA's headers) for the target.
PKG_CONFIG_ALLOW_CROSS=1 PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig \
    cargo test -p tipring-sip --locked --target aarch64-unknown-linux-gnu --lib --tests

printf '\nall checks passed\n'
