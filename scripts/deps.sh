# Installs what building and testing tipring needs on a Debian machine that has a Rust
# toolchain (rustup). Sourced by scripts/test.sh, scripts/demo.sh and scripts/arm-demo.sh;
# idempotent and quiet when everything is already there.

# Run a command as root (directly, or through sudo when we are not root).
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt-get update that tolerates a mirror index being briefly inconsistent: retry, and go on
# with the lists we have if it still fails (installs then report what is really missing).
apt_update() {
    [ -n "${TIPRING_APT_UPDATED:-}" ] && return 0
    for attempt in 1 2 3; do
        if as_root apt-get update -qq; then TIPRING_APT_UPDATED=1; return 0; fi
        echo "apt-get update failed (attempt $attempt); retrying" >&2
        sleep $((attempt * 5))
    done
    echo "warning: apt-get update kept failing; using the package lists already present" >&2
    TIPRING_APT_UPDATED=1
}

# ensure_apt PKG...: install the Debian packages that are not installed yet.
ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return 0
    echo "installing Debian packages: ${missing[*]}"
    apt_update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# ensure_foreign_arch ARCH...: enable a dpkg foreign architecture (for cross -dev packages).
ensure_foreign_arch() {
    for a in "$@"; do
        if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
            as_root dpkg --add-architecture "$a"
            TIPRING_APT_UPDATED=
        fi
    done
}

# ensure_rust_target TRIPLE...: add rustup targets that are missing.
ensure_rust_target() {
    local have
    have=$(rustup target list --installed)
    for t in "$@"; do
        grep -qx "$t" <<<"$have" || rustup target add "$t"
    done
}

# ensure_rust_component NAME...: add rustup components (rustfmt, clippy) that are missing.
ensure_rust_component() {
    for c in "$@"; do
        rustup component list --installed | grep -q "^$c" || rustup component add "$c"
    done
}

# quiet_packaged_services NAME...: on a machine run by systemd, stop and disable services
# that Debian packages start on install (Kamailio would otherwise hold port 5060 on every
# address); the tests start their own instances on loopback.
quiet_packaged_services() {
    [ -d /run/systemd/system ] || return 0
    for s in "$@"; do
        if systemctl is-enabled --quiet "$s" 2>/dev/null || systemctl is-active --quiet "$s" 2>/dev/null; then
            as_root systemctl disable --now "$s" >/dev/null 2>&1 || true
        fi
    done
}

# The packages the native build and the test suite need: ALSA, and spandsp for the T.38
# fax relay (cargo feature `t38`, on by default).
native_deps() {
    ensure_rust_component rustfmt clippy
    ensure_apt build-essential pkg-config libasound2-dev libspandsp-dev
}

# The ARM cross builds and running them under qemu-user: cross toolchains, the target's
# ALSA and spandsp, and the multiarch libc6 whose loader qemu runs the dynamically linked
# binaries with (scripts/arm-demo.sh).
cross_deps() {
    ensure_foreign_arch arm64 armhf
    ensure_apt gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross \
        libc6-dev-armhf-cross qemu-user libasound2-dev:arm64 libasound2-dev:armhf \
        libspandsp-dev:arm64 libspandsp-dev:armhf libc6:arm64 libc6:armhf
    ensure_rust_target aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf
}

# Everything the whole test suite needs: cross toolchains, qemu, the real SIP peers and the
# reference DSP library used only by tests (python3: the provisioning test's HTTPS server;
# chromium and chromium-driver: headless Chromium for testkit's WebDriver client, `web`;
# dnsmasq-base: the DNS server the RFC 3263 tests publish NAPTR/SRV/A records with;
# nftables, iproute2: the NAT test's router in network namespaces; coturn: its STUN server).
test_deps() {
    native_deps
    cross_deps
    ensure_apt sip-tester libspandsp-dev libtiff-dev espeak-ng sox alsa-utils systemd \
        kamailio kamailio-extra-modules baresip sipsak tshark sipvicious lintian python3 \
        chromium chromium-driver dnsmasq-base nftables iproute2 coturn
    quiet_packaged_services kamailio coturn
    ensure_rust_target thumbv7em-none-eabihf
}
