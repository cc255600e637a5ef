#!/usr/bin/env bash
# The Debian packages as an installer meets them: built for amd64, arm64 and armhf from the
# binaries the suite built (scripts/package.sh), each lintian-clean; the amd64 one
# installed on this machine (the service account, the configuration readable by its group
# only, the unit enabled, check-config passing as the service account), reinstalled over an
# edited configuration (kept), then purged leaving nothing behind.
# Usage: scripts/package-test.sh [PROFILE]   (debug by default; needs root or sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-debug}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

fail() { echo "package-test: $*" >&2; exit 1; }

if dpkg-query -W -f='${Status}' tipring 2>/dev/null | grep -q installed; then
    fail "a tipring package is installed on this machine; not touching it"
fi

debs=()
for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf; do
    deb=$(scripts/package.sh "$target" "$profile" "$out")
    if ! report=$(lintian --fail-on error,warning "$deb" 2>&1); then
        echo "$report" >&2
        fail "lintian: $deb"
    fi
    printf '%s: %s, %s kB installed\n' "$(basename "$deb")" \
        "$(du -h "$deb" | cut -f1)" "$(dpkg-deb -f "$deb" Installed-Size)"
    debs+=("$deb")
done

amd64=${debs[0]}
$sudo dpkg -i "$amd64" >/dev/null || fail "dpkg -i $amd64"
getent passwd tipring >/dev/null || fail "no tipring account"
[ "$(stat -c '%U:%G %a' /etc/tipring)" = "root:tipring 750" ] || fail "/etc/tipring: $(stat -c '%U:%G %a' /etc/tipring)"
[ "$(stat -c '%U:%G %a' /etc/tipring/tipring.toml)" = "root:tipring 640" ] ||
    fail "tipring.toml: $(stat -c '%U:%G %a' /etc/tipring/tipring.toml)"
[ "$(stat -c '%U' /var/lib/tipring)" = tipring ] || fail "/var/lib/tipring not the service's"
[ -L /etc/systemd/system/multi-user.target.wants/tipring.service ] || fail "unit not enabled"
$sudo runuser -u tipring -- /usr/bin/tipring check-config /etc/tipring/tipring.toml >/dev/null ||
    fail "check-config as the service account"

# An admin's edit survives a reinstall (a conffile).
echo '# edited by the admin' | $sudo tee -a /etc/tipring/tipring.toml >/dev/null
$sudo dpkg -i --force-confold "$amd64" >/dev/null || fail "reinstall"
grep -q '^# edited by the admin' /etc/tipring/tipring.toml || fail "the edited configuration was replaced"

$sudo dpkg --purge tipring >/dev/null || fail "dpkg --purge"
for p in /usr/bin/tipring /etc/tipring /var/lib/tipring /usr/share/tipring /usr/share/doc/tipring \
    /usr/lib/systemd/system/tipring.service /usr/lib/sysusers.d/tipring.conf \
    /usr/lib/tmpfiles.d/tipring.conf /etc/systemd/system/multi-user.target.wants/tipring.service; do
    [ ! -e "$p" ] && [ ! -L "$p" ] || fail "left behind after purge: $p"
done
echo "package-test: three packages lintian-clean; amd64 installed, checked, reinstalled, purged"
