#!/usr/bin/env bash
# The test command (README): installs what the tests need on a fresh Debian machine, then runs
# the unit and integration tests. Run from anywhere; needs root only for the apt-get step.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "warning: missing ${need[*]} (run as root to install); some tests will say they are skipped" >&2
  fi
fi

# Python tools the tests drive (a real Prometheus text parser).
python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check prometheus-client

cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets 2>&1
