#!/usr/bin/env bash
# Runs the SIP fuzz targets (core/fuzz) for N seconds each (default 60), seeded from the
# torture set, and prints how many inputs each one ran. Needs cargo-fuzz; uses the nightly
# toolchain if installed, otherwise stable with RUSTC_BOOTSTRAP=1. The corpus lives in
# core/fuzz/corpus and crashes in core/fuzz/artifacts (both ignored by git).
set -uo pipefail
secs="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/core/fuzz" || exit 1
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
status=0
for target in parse_message framer; do
    mkdir -p "corpus/$target"
    cp -n "$root"/tests/torture/*.sip "corpus/$target/" 2>/dev/null
    log="$(mktemp "/tmp/fuzz-$target.XXXX.log")"
    echo "== $target for ${secs}s (log: $log)"
    "${fuzz[@]}" run "$target" "corpus/$target" -- \
        -max_total_time="$secs" -max_len=70000 -print_final_stats=1 >"$log" 2>&1
    rc=$?
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|SUMMARY|thread .* panicked)' "$log"
    if [ "$rc" -ne 0 ]; then
        echo "!! $target failed (exit $rc); see $log and core/fuzz/artifacts/$target"
        status=1
    fi
done
exit "$status"
