#!/usr/bin/env bash
# The project's test command (README): installs the third-party Stripe fakes the
# tests compare against, then runs the whole test suite with cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stripe-sql-target}"
export STRIPE_SQL_PEERS="${STRIPE_SQL_PEERS:-$HOME/.cache/stripe-sql-peers}"
bash tests/peers/install.sh
cargo test --workspace --locked "$@"
