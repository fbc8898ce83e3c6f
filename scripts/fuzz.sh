#!/usr/bin/env bash
# The fuzz targets of fuzz/ (cargo-fuzz, libFuzzer) for a short fixed time each, on the committed
# seed corpora; fails on any crash, leak or timeout. Regressions (fuzz/regressions/<target>/*,
# inputs that once crashed) are replayed first. New inputs found go to a scratch directory, so the
# committed corpus never grows by itself (see fuzz/README.md to merge interesting ones).
#
#   bash scripts/fuzz.sh                 # every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh http_chunked policy_document
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
# cargo-fuzz passes nightly-only flags (-Zsanitizer, -Cpasses=sancov); the stable compiler
# accepts them when told it is bootstrapping itself. No nightly toolchain is needed.
export RUSTC_BOOTSTRAP=1
# AddressSanitizer: these targets are safe Rust, but C code (mimalloc) and unsafe in
# dependencies are checked too. FUZZ_SANITIZER=none builds faster.
sanitizer=${FUZZ_SANITIZER:-address}
flags=(--release --debug-assertions --sanitizer "$sanitizer" --fuzz-dir fuzz)

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
# Fuzz the dependency versions the gateway ships: the fuzz crate's lock file starts as a copy of
# the gateway's (cargo then adds only libfuzzer-sys and its few dependencies).
cp Cargo.lock fuzz/Cargo.lock
cargo fuzz build "${flags[@]}"

failed=()
for t in "${targets[@]}"; do
  if [ -d "fuzz/regressions/$t" ] && [ -n "$(ls -A "fuzz/regressions/$t")" ]; then
    echo "fuzz: $t: replaying fuzz/regressions/$t"
    cargo fuzz run "${flags[@]}" "$t" "fuzz/regressions/$t" -- -runs=0 || { failed+=("$t (regression)"); continue; }
  fi
  scratch=$(mktemp -d)
  echo "fuzz: $t: ${seconds}s"
  # -timeout: one input taking over 10 s is a hang (a bug); -rss_limit_mb bounds memory.
  if ! cargo fuzz run "${flags[@]}" "$t" "$scratch" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      2>"$scratch.log"; then
    tail -n 60 "$scratch.log"
    failed+=("$t")
  else
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done)' "$scratch.log" | tr '\n' ' ' || true
    echo
  fi
  rm -rf "$scratch" "$scratch.log"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (crash inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"
