#!/usr/bin/env bash
# The test command (README): installs what the tests need on a fresh Debian machine, then runs
# the unit and integration tests. Run from anywhere; needs root only for the apt-get step.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# tests/chaos.rs: loss and partitions as nftables rules inside network namespaces.
command -v nft >/dev/null 2>&1 || need+=(nftables)
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "warning: missing ${need[*]} (run as root to install); some tests will say they are skipped" >&2
  fi
fi

# Python tools the tests drive (a real Prometheus text parser).
python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check prometheus-client \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages prometheus-client
# An independent JWT implementation (PyJWT) makes the tokens tests/validate_jwt.rs sends.
python3 -c "import jwt, cryptography" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyjwt cryptography \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages pyjwt cryptography
# WebSocket tests (tests/websocket.rs): an independent client and origin, the asyncio API (>= 13).
python3 -c "import websockets.asyncio.client" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check "websockets>=13" \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "websockets>=13"

# The Helm chart (tests/helm_chart.rs): Helm v4's engine in a wheel (helm-python-sdk, no helm
# binary) renders deploy/helm/ringgate; kubernetes-validate checks the manifests offline.
python3 -c "import helm_python, kubernetes_validate, yaml" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check helm-python-sdk kubernetes-validate pyyaml \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages helm-python-sdk kubernetes-validate pyyaml

cargo fmt --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
cargo clippy --all-targets --quiet -- -D warnings
log=$(mktemp)
set +e
cargo test --all-targets --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The lab's own tools (open-loop load generator, plotter): a standalone crate under perf/.
tools=perf/tools/Cargo.toml
if cargo fmt --manifest-path "$tools" --check && cargo clippy --manifest-path "$tools" --all-targets --quiet -- -D warnings; then
  cargo test --manifest-path "$tools" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
else
  status=1
fi
# The fuzz targets (fuzz/, cargo-fuzz + libFuzzer), a short fixed time each; fails on any crash.
fuzz_start=$(date +%s)
bash scripts/fuzz.sh || status=1
echo "fuzz: $(( $(date +%s) - fuzz_start )) s"
set -e
# One closing line for the whole run (cargo prints one per test binary, the last often "0 passed").
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^passed/) n += $i } END { print n + 0 }' "$log")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/) n += $i } END { print n + 0 }' "$log")
rm -f "$log"
echo
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
