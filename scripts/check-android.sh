#!/bin/bash
# Type-checks and clippy-checks the core (sipher-core, lib + bin) for the Android targets on a
# machine with NO Android NDK:
#   scripts/check-android.sh [all|check|clippy]      (default: all = check, then clippy)
# Uses Debian's rustc-web/cargo-web/rust-web-src (bookworm-security, as `cargo +debweb`) with
# -Zbuild-std, and Debian's clang for the C that build scripts compile (ring). Installs nothing:
# scripts/install-deps.sh sets the toolchain up. Prints one PASS/FAIL line per target and a closing
# "N passed, M failed"; exit status non-zero if any target failed.
# Covers everything but the Oboe backend (feature `oboe`) and C libopus (feature `opus`), which
# need the NDK's headers: the check runs with --no-default-features and without `oboe`.
# Environment: TARGETS (space-separated, default the three below), ANDROID_TARGET_DIR (default
# target/android; kept apart from the host build because it is another compiler).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/scripts/android
cd "$ROOT" || exit 1
MODE=${1:-all}
case $MODE in
  all) MODES=(check clippy) ;;
  check | clippy) MODES=("$MODE") ;;
  *) echo "usage: $0 [all|check|clippy]" >&2; exit 2 ;;
esac
read -r -a TARGETS <<<"${TARGETS:-aarch64-linux-android armv7-linux-androideabi x86_64-linux-android}"
export CARGO_TARGET_DIR=${ANDROID_TARGET_DIR:-$ROOT/target/android}

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
for tool in rustup clang llvm-ar; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool not found; run scripts/install-deps.sh" >&2; exit 1; }
done
if ! cargo +debweb clippy --version >/dev/null 2>&1; then
  echo "toolchain 'debweb' (Debian rustc-web + clippy) missing; run scripts/install-deps.sh" >&2
  exit 1
fi

# C in build scripts (ring): Debian clang with no sysroot and no libc headers, a mode ring
# supports (RING_CORE_NOSTDLIBINC); aws-lc-sys, audiopus_sys and oboe-sys do not.
export TARGET_CC=clang TARGET_CXX=clang++ TARGET_AR=llvm-ar
NOINC="-nostdlibinc -DRING_CORE_NOSTDLIBINC=1"
export CFLAGS_aarch64_linux_android="$NOINC"
# cc-rs passes --target=arm-none-linux-android (armv4 by default): ring's ARM assembly needs armv7.
export CFLAGS_armv7_linux_androideabi="$NOINC -march=armv7-a -mfpu=neon"
# ring's x86_64 curve25519_64_adx.c includes <immintrin.h> -> <mm_malloc.h> -> <stdlib.h>.
export CFLAGS_x86_64_linux_android="$NOINC -isystem $HERE/stub-include"
# -Zbuild-std is unstable: Debian's stable compiler allows it only with this.
export RUSTC_BOOTSTRAP=1

LOCKED=()
[ -f Cargo.lock ] && LOCKED=(--locked)
# cargo MODE [targets...]: the core's lib and bin for the given targets, in one invocation.
run_cargo() {
  local mode=$1 lints=()
  shift
  [ "$mode" = clippy ] && lints=(-- -D warnings)
  local target_args=()
  for t in "$@"; do target_args+=(--target "$t"); done
  cargo +debweb "$mode" "${LOCKED[@]}" -Zbuild-std=std,panic_abort "${target_args[@]}" \
    -p sipher-core --lib --bins --no-default-features "${lints[@]}"
}

declare -A STATUS
t0=$(date +%s)
# Crates whose C cannot build without the NDK (bionic headers): if one got into the graph, say so
# plainly instead of leaving a C compiler error to decode.
NDK_ONLY='^(aws-lc-rs|aws-lc-sys|audiopus_sys|oboe|oboe-sys) '
for t in "${TARGETS[@]}"; do
  STATUS[$t]=""
  bad=$(cargo +debweb tree "${LOCKED[@]}" -p sipher-core --no-default-features --target "$t" \
    -e normal,build --prefix none 2>&1 | grep -E "$NDK_ONLY" | cut -d' ' -f1 | sort -u | paste -sd,)
  if [ -n "$bad" ]; then
    echo "check-android: $t depends on $bad, which need the NDK" >&2
    STATUS[$t]=" deps:FAIL($bad)"
  fi
done
for mode in "${MODES[@]}"; do
  echo "=== check-android: cargo $mode for ${TARGETS[*]}"
  if run_cargo "$mode" "${TARGETS[@]}"; then
    for t in "${TARGETS[@]}"; do STATUS[$t]+=" $mode:ok"; done
  elif [ ${#TARGETS[@]} -eq 1 ]; then
    STATUS[${TARGETS[0]}]+=" $mode:FAIL"
  else
    # One invocation stops at the first failure and does not say which target it was: run each
    # target alone (what already compiled is reused) to tell them apart.
    for t in "${TARGETS[@]}"; do
      echo "=== check-android: cargo $mode for $t alone"
      if run_cargo "$mode" "$t"; then STATUS[$t]+=" $mode:ok"; else STATUS[$t]+=" $mode:FAIL"; fi
    done
  fi
done

echo
echo "=== check-android (${MODES[*]}, $(($(date +%s) - t0))s, target dir $CARGO_TARGET_DIR)"
passed=0 failed=0
for t in "${TARGETS[@]}"; do
  if [[ ${STATUS[$t]} == *FAIL* ]]; then
    echo "FAIL $t:${STATUS[$t]}"
    failed=$((failed + 1))
  else
    echo "PASS $t:${STATUS[$t]}"
    passed=$((passed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
