#!/usr/bin/env bash
# The demo: installs what it needs, builds tipring and runs it.
# Until the gateway's call demo exists, this parses a shipped SIP INVITE and prints it as JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
native_deps
cargo build --release --locked --quiet
./target/release/tipring parse tests/data/invite.sip
