#!/bin/bash
# Short voice check for CI (≤ 90 s): Sipher calls Sipher inside a namespace with an impaired
# loopback, Opus, ≈10.7 s of speech, and the recording must reach a PESQ (wb) floor well under what
# a working voice path scores: clean ≥ 3.5, 3g-typical ≥ 2.0 (lower them only with a reason).
# Calibration (sipher at bfd3706, loaded 2-core machine): clean 4.00 in 3 of 3 runs; 3g-typical
# 2.47 / 2.38 / 2.24. The short clip scores lower than the 27 s one (3.1-3.2) because the seeded
# Gilbert-Elliott emulator puts a loss burst in the first seconds (≈7 % lost by t = 6 s), so a large
# share of this clip is hit; a silent or garbled path scores ≈1.0-1.3, or gives no score at all.
# Prints PASS/FAIL lines and `N passed, M failed`; exit 1 on any failure.
# Needs root (ip netns), the bench dependencies (scripts/install-deps.sh) and a release build
# (SIPHER=path overrides target/release/sipher). Until `sipher call` has --play/--record every
# case fails with "voice path not built".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$(cd "$HERE/../../scripts/bench" && pwd)
export NS=${NS:-sipher-voiceci}
export BENCH_OUT=${BENCH_OUT:-$(mktemp -d /tmp/sipher-voice.XXXXXX)}
export SPEECH=short
mkdir -p "$BENCH_OUT"
PASSED=0
FAILED=0
CASES=("clean 3.5" "3g-typical 2.0")

for c in "${CASES[@]}"; do
  read -r profile floor <<<"$c"
  name="voice $profile opus PESQ >= $floor"
  line=$(timeout -k 5 60 "$BENCH/sipher-pair.sh" "$profile" opus 2>"$BENCH_OUT/$profile.err" | tail -1)
  rc=${PIPESTATUS[0]}
  mos=$(jq -r '.score.mos // empty' <<<"$line" 2>/dev/null)
  err=$(jq -r '.score.error // empty' <<<"$line" 2>/dev/null)
  if [ -n "$mos" ] && python3 -c "import sys; sys.exit(0 if $mos >= $floor else 1)"; then
    PASSED=$((PASSED + 1))
    echo "PASS $name   [MOS $mos, offset $(jq -r '.score.offset_ms' <<<"$line") ms]"
  else
    FAILED=$((FAILED + 1))
    if [ -n "$mos" ]; then
      detail="MOS $mos below the floor; files in $BENCH_OUT/results/sipher-$profile-opus"
    elif [ -n "$err" ]; then
      detail=$err
    else
      detail="no result (exit $rc): $(tail -c 300 "$BENCH_OUT/$profile.err" | tr '\n' ' ')"
    fi
    echo "FAIL $name   [$detail]"
  fi
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
