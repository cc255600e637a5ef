#!/usr/bin/env bash
# The demo: installs what it needs, builds tipring and runs the demo (examples/demo.rs,
# test tooling kept out of the firmware): two gateways
# (real `tipring run` processes, each with a simulated line card) on 127.0.0.1 and
# 127.0.0.2 carry a call from a phone on one to a phone on the other, and it prints the SIP
# ladder and the audio figures. Exits non-zero naming the step that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
native_deps
cargo build --release --locked --quiet --bin tipring --example demo
exec ./target/release/examples/demo "$@"
