#!/usr/bin/env bash
# Cold build cost of balance-api next to a minimal hand-written reqwest client with the same TLS
# choice (rustls on aws-lc-rs). Each build starts from an empty target directory; crates come
# from the local registry cache. Takes minutes; not part of CI.
# Usage: xtask/bench/build-cost.sh [--workspace]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

measure() { # label, then the command to build
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >"$scratch/log" 2>&1
  end=$(date +%s.%N)
  awk -v l="$label" -v s="$start" -v e="$end" -v n="$(grep -c '^ *Compiling ' "$scratch/log")" \
    'BEGIN { printf "%s: %.1f s, %d crates compiled\n", l, e - s, n }'
}

# The baseline: what a user writes without this crate.
mkdir -p "$scratch/baseline/src"
cat >"$scratch/baseline/Cargo.toml" <<'TOML'
[package]
name = "baseline"
version = "0.1.0"
edition = "2024"

[dependencies]
reqwest = { version = "0.13.5", default-features = false, features = ["json", "rustls"] }
serde = { version = "1", features = ["derive"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
TOML
cat >"$scratch/baseline/src/main.rs" <<'RUST'
#[derive(serde::Deserialize, Debug)]
struct Balance { account_sid: Option<String>, balance: Option<String>, currency: Option<String> }

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sid = std::env::var("TWILIO_ACCOUNT_SID")?;
    let token = std::env::var("TWILIO_AUTH_TOKEN")?;
    let url = format!("https://api.twilio.com/2010-04-01/Accounts/{sid}/Balance.json");
    let b: Balance = reqwest::Client::new().get(url).basic_auth(&sid, Some(token)).send().await?.error_for_status()?.json().await?;
    println!("{b:?}");
    Ok(())
}
RUST
cp "$root/Cargo.lock" "$scratch/baseline/Cargo.lock" # same crate versions where shared

measure "balance-api (cargo build -p balance-api)" \
  env CARGO_TARGET_DIR="$scratch/t1" cargo build --manifest-path "$root/Cargo.toml" -p balance-api --locked
measure "hand-written reqwest client (same TLS)" \
  env CARGO_TARGET_DIR="$scratch/t2" cargo build --manifest-path "$scratch/baseline/Cargo.toml"
if [ "${1:-}" = "--workspace" ]; then
  measure "whole workspace (cargo build --workspace)" \
    env CARGO_TARGET_DIR="$scratch/t3" cargo build --manifest-path "$root/Cargo.toml" --workspace --locked
fi
