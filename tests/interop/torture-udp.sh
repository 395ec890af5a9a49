#!/bin/bash
# Sends every tests/torture/*.sip message to a running `sipher answer --bind 127.0.0.1:PORT --json`
# over UDP (torture_udp.py, stdlib only) and judges each response by the file name (valid-* /
# invalid-* -> 400 / version-* -> 505 / scheme-* -> 416; see torture_udp.py). Afterwards sipher must
# still be running and answer OPTIONS with 200, and must not have panicked.
#   SIPHER=... TORTURE_PORT=5096 tests/interop/torture-udp.sh
# Bounded (each file waits at most ~4 s); prints per-file PASS/FAIL and "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"

SIPHER=${SIPHER:-${CARGO_TARGET_DIR:-$REPO_DIR/target}/debug/sipher}
case $SIPHER in /*) ;; *) SIPHER=$PWD/$SIPHER ;; esac
PORT=${TORTURE_PORT:-5096}
TORTURE_DIR=${TORTURE_DIR:-$REPO_DIR/tests/torture}

echo "sipher: $SIPHER   torture set: $TORTURE_DIR   RUNDIR: $RUNDIR"
shopt -s nullglob
FILES=("$TORTURE_DIR"/*.sip)
if [ ${#FILES[@]} = 0 ]; then
  fail "torture set present" "no $TORTURE_DIR/*.sip"
  summary
  exit 1
fi
if [ ! -x "$SIPHER" ]; then
  fail "sipher binary present" "$SIPHER not found; build it with cargo build"
  summary
  exit 1
fi
cd "$RUNDIR" || exit 1
spawn torture-sipher 600 "$SIPHER" answer --bind "127.0.0.1:$PORT" --json
PID=$SPAWNED_PID
if ! wait_event torture-sipher.out '.event == "listening"' 10; then
  fail "sipher answer listens on 127.0.0.1:$PORT" "see $RUNDIR/torture-sipher.{out,err}"
  summary
  exit 1
fi
timeout -k 2 400 python3 "$INTEROP_DIR/torture_udp.py" "127.0.0.1:$PORT" "${FILES[@]}" >torture.txt 2>&1
grep -vE '^COUNTS ' torture.txt
read -r _ p f < <(grep -E '^COUNTS ' torture.txt || echo "COUNTS 0 1")
PASSED=$((PASSED + p))
FAILED=$((FAILED + f))
kill -0 "$PID" 2>/dev/null
check "sipher still running after the torture set" $?
grep -qE 'panicked at|RUST_BACKTRACE' torture-sipher.err
[ $? = 1 ]
check "sipher did not panic" $? "$(grep -m1 -E 'panicked at' torture-sipher.err)"
stop_pid "$PID"
summary
