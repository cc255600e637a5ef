#!/usr/bin/env bash
# Builds the Debian package of tipring for one target from an already built binary.
# Usage: scripts/package.sh TARGET PROFILE OUTDIR
#   TARGET   x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu or armv7-unknown-linux-gnueabihf
#   PROFILE  box (what a box gets: Cargo.toml's size-tuned profile), release, or debug (what
#            the test suite already built)
#   OUTDIR   where tipring_VERSION_ARCH.deb is written; its path is printed
# Build first: cargo build --profile box --target TARGET (with the cross setup of README.md).
# The package: /usr/bin/tipring (stripped), the systemd unit, sysusers and tmpfiles entries,
# /etc/tipring/tipring.toml as a conffile, the board profiles under /usr/share/tipring/board,
# the docs; maintainer scripts in packaging/deb. Depends come from dpkg-shlibdeps.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?target triple}
profile=${2:?box, release or debug}
out=${3:?output directory}

case $target in
    x86_64-unknown-linux-gnu) arch=amd64 strip=strip multiarch=x86_64-linux-gnu ;;
    aarch64-unknown-linux-gnu) arch=arm64 strip=aarch64-linux-gnu-strip multiarch=aarch64-linux-gnu ;;
    armv7-unknown-linux-gnueabihf) arch=armhf strip=arm-linux-gnueabihf-strip multiarch=arm-linux-gnueabihf ;;
    *) echo "package.sh: no Debian architecture for $target" >&2; exit 2 ;;
esac

binary=target/$target/$profile/tipring
if [ "$target" = x86_64-unknown-linux-gnu ] && [ ! -x "$binary" ]; then
    binary=target/$profile/tipring
fi
[ -x "$binary" ] || { echo "package.sh: $binary not built" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/tipring

install -D -m 0755 "$binary" "$root/usr/bin/tipring"
"$strip" --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/tipring"
install -D -m 0640 systemd/tipring.toml "$root/etc/tipring/tipring.toml"
install -D -m 0644 systemd/tipring.service "$root/usr/lib/systemd/system/tipring.service"
install -D -m 0644 systemd/tipring.sysusers "$root/usr/lib/sysusers.d/tipring.conf"
install -D -m 0644 systemd/tipring.tmpfiles "$root/usr/lib/tmpfiles.d/tipring.conf"
for b in board/*.toml; do
    install -D -m 0644 "$b" "$root/usr/share/tipring/board/$(basename "$b")"
done
install -D -m 0644 docs/CONFIG.md "$doc/CONFIG.md"
install -D -m 0644 SECURITY.md "$doc/SECURITY.md"
install -D -m 0644 README.md "$doc/README.md"
install -D -m 0644 packaging/deb/copyright "$doc/copyright"
gzip -9n -c packaging/deb/changelog > "$stage/changelog.gz"
install -D -m 0644 "$stage/changelog.gz" "$doc/changelog.gz"
install -D -m 0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/tipring"

# Shared-library dependencies of the binary for its architecture (dpkg-shlibdeps reads
# a debian/control; the libraries are those the cross setup installed for that arch).
mkdir -p "$stage/src/debian"
printf 'Source: tipring\n\nPackage: tipring\nArchitecture: %s\n' "$arch" > "$stage/src/debian/control"
depends=$(cd "$stage/src" && dpkg-shlibdeps -O -l"/usr/lib/$multiarch" "$root/usr/bin/tipring" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
echo /etc/tipring/tipring.toml > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: tipring
Version: $version
Architecture: $arch
Maintainer: tipring developers <tipring@example.invalid>
Installed-Size: $size
Depends: $depends, systemd | systemd-standalone-sysusers
Section: comm
Priority: optional
Homepage: https://example.invalid/tipring
Description: SIP-to-PSTN analog gateway firmware
 tipring drives analog FXS and FXO line cards (a serial control link and
 ALSA audio) and turns their calls into SIP calls and back: a SIP user agent
 over UDP, TCP and TLS with digest authentication, G.711 RTP with RFC 4733
 DTMF, a jitter buffer, loss concealment, echo cancellation, T.38 fax relay,
 call-progress tones and caller ID.
 .
 The package installs the gateway, its hardened systemd service (enabled),
 the tipring service account, /etc/tipring/tipring.toml (a simulated line
 card on loopback until edited) and the board profiles.
CONTROL

mkdir -p "$out"
deb=$out/tipring_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
