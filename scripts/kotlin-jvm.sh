#!/bin/bash
# The core's Kotlin API on the JVM (UniFFI, core/src/ffi):
#   scripts/kotlin-jvm.sh
# 1. builds the host cdylib (libsipher.so) and the in-crate uniffi-bindgen (feature uniffi-cli);
# 2. generates the Kotlin twice from the library into <target dir>/uniffi/: kotlin-android with
#    ../uniffi.toml as it is (android = true) and kotlin-host with a copy saying android = false;
# 3. starts Kamailio on 127.0.0.1 (tests/interop/start-kamailio.sh) unless SKIP_INTEROP=1 or it is
#    not installed; the account tests are then skipped (reported as skipped);
# 4. runs the Kotlin tests (android/kotlin-jvm, Maven: JUnit 5, JNA, coroutines) against the real
#    core: two phones making a ZRTP call over loopback, SAS confirmation across restarts, typed
#    errors, observers, freeing;
# 5. compiles kotlin-android against android-all (android/kotlin-android-compile).
# Prints PASS/FAIL per test class and step and ends with "N passed, M failed" (exit 1 on any
# failure). Other agents on this machine: run it under `flock /tmp/sipher-kamailio.lock`.
# Environment: CARGO_TARGET_DIR (as cargo), SKIP_INTEROP=1 (no Kamailio), MVN_ARGS (extra).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
for tool in cargo mvn java jq; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool not found; run scripts/install-deps.sh" >&2; exit 1; }
done
LOCKED=()
[ -f Cargo.lock ] && LOCKED=(--locked)
TARGET_DIR=$(cargo metadata "${LOCKED[@]}" --format-version 1 --no-deps | jq -r .target_directory)
OUT=$TARGET_DIR/uniffi
LIB=$TARGET_DIR/debug/libsipher.so
BINDGEN=$TARGET_DIR/debug/uniffi-bindgen
PASSED=0 FAILED=0 SKIPPED=0
pass() { echo "PASS $1${2:+: $2}"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; FAILED=$((FAILED + 1)); }
finish() {
  echo
  [ "$SKIPPED" = 0 ] || echo "($SKIPPED skipped)"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
  exit $?
}

echo "=== kotlin-jvm: cargo build (cdylib + uniffi-bindgen)"
if ! cargo build "${LOCKED[@]}" -p sipher-core --features uniffi-cli --lib --bin uniffi-bindgen; then
  fail "cargo build"; finish
fi
mkdir -p "$OUT"
sed 's/^android *= *true/android = false/' uniffi.toml > "$OUT/uniffi-host.toml"
gen_ok=1
for variant in host android; do
  config=$OUT/uniffi-host.toml
  [ $variant = android ] && config=$ROOT/uniffi.toml
  rm -rf "$OUT/kotlin-$variant"
  "$BINDGEN" generate --library "$LIB" --language kotlin --config "$config" \
    --out-dir "$OUT/kotlin-$variant" --no-format || gen_ok=0
done
if [ $gen_ok = 1 ]; then
  pass "generate Kotlin" "$(find "$OUT/kotlin-host" -name '*.kt' | wc -l) file(s) in $OUT/kotlin-{host,android}"
else
  fail "generate Kotlin"; finish
fi

KAMAILIO_RUNDIR=""
stop_kamailio() {
  [ -n "$KAMAILIO_RUNDIR" ] && RUNDIR=$KAMAILIO_RUNDIR tests/interop/stop-kamailio.sh >/dev/null
}
trap stop_kamailio EXIT
trap 'exit 143' TERM INT   # (exit runs the EXIT trap: Kamailio is stopped on a time-out too)
if [ "${SKIP_INTEROP:-0}" != 1 ] && command -v kamailio >/dev/null 2>&1; then
  KAMAILIO_RUNDIR=$(mktemp -d /tmp/sipher-kotlin.XXXXXX)
  if RUNDIR=$KAMAILIO_RUNDIR tests/interop/start-kamailio.sh >"$KAMAILIO_RUNDIR/start.txt" 2>&1; then
    export SIPHER_KAMAILIO=1
  else
    fail "kamailio starts" "$(tail -3 "$KAMAILIO_RUNDIR/start.txt" | paste -sd' ')"
  fi
else
  echo "(no Kamailio: the account tests are skipped)"
fi

MVN=(mvn -B -ntp -Dstyle.color=never ${MVN_ARGS:-})
echo "=== kotlin-jvm: mvn test (android/kotlin-jvm)"
REPORTS=$ROOT/android/kotlin-jvm/target/surefire-reports
rm -rf "$REPORTS"
# (sed: Maven 3.8 still writes colour resets at the end of lines, which would glue onto ours)
"${MVN[@]}" -f android/kotlin-jvm/pom.xml -Dsipher.bindings="$OUT/kotlin-host" \
  -Dsipher.libdir="$(dirname "$LIB")" test 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'
mvn_rc=${PIPESTATUS[0]}
# One line per test class, from Surefire's XML reports.
suite_attr() { grep -o "<testsuite [^>]*" "$1" | head -1 | grep -o " $2=\"[^\"]*\"" | cut -d'"' -f2; }
found=0
for xml in "$REPORTS"/TEST-*.xml; do
  [ -f "$xml" ] || continue
  found=1
  name=$(suite_attr "$xml" name) tests=$(suite_attr "$xml" tests)
  failures=$(suite_attr "$xml" failures) errors=$(suite_attr "$xml" errors)
  skipped=$(suite_attr "$xml" skipped)
  if [ -z "$name" ] || [ -z "$tests" ]; then
    fail "surefire report" "cannot read $xml"
    continue
  fi
  ok=$((tests - failures - errors - skipped))
  PASSED=$((PASSED + ok))
  FAILED=$((FAILED + failures + errors))
  SKIPPED=$((SKIPPED + skipped))
  line="${name##*.}: $tests tests, $ok ok, $((failures + errors)) failed, $skipped skipped"
  if [ $((failures + errors)) = 0 ]; then echo "PASS $line"; else echo "FAIL $line"; fi
done
if [ $found = 0 ]; then
  fail "mvn test" "no test reports (exit $mvn_rc: a compile error?)"
elif [ $mvn_rc != 0 ] && [ "$FAILED" = 0 ]; then
  fail "mvn test" "exit $mvn_rc"
fi

echo "=== kotlin-jvm: the Android-flavoured Kotlin compiles (android/kotlin-android-compile)"
"${MVN[@]}" -q -f android/kotlin-android-compile/pom.xml -Dsipher.bindings="$OUT/kotlin-android" \
  compile 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'
if [ "${PIPESTATUS[0]}" = 0 ]; then
  pass "Android bindings compile" "against org.robolectric:android-all (API 34)"
else
  fail "Android bindings compile"
fi
finish
