#!/bin/bash
# SRTP per packet, Sipher beside libsrtp2 in C, in one run and one table (BENCHMARKS.md, SRTP):
#   scripts/bench/srtp-bench.sh [N] [ROUNDS]   (defaults: 200000 packets, median of 7 rounds)
# Compiles scripts/bench/srtp/libsrtp_bench.c with cc -O2 against
#   - the system libsrtp2 (Debian's libsrtp2-dev; its crypto is NSS, not OpenSSL), and
#   - if python3 has pylibsrtp, the libsrtp2 + OpenSSL that its wheel bundles (called from C,
#     no Python in the timed loop; linked with libpython only to satisfy the module's symbols),
# then builds and runs the srtp_bench example (release), which times Sipher and runs both binaries
# round by round, interleaved, with the same packet count and payload (160 bytes); each cell is
# the median over the rounds. Uses $CARGO_TARGET_DIR (default target/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
N=${1:-200000}
REPS=${2:-7}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$TARGET/srtp-bench
mkdir -p "$OUT"
SRC=scripts/bench/srtp/libsrtp_bench.c

PEERS=()
cc -O2 -Wall -o "$OUT/libsrtp_bench_system" "$SRC" -lsrtp2
PEERS+=(--peer "libsrtp2 (C), Debian package, NSS crypto=$OUT/libsrtp_bench_system")

# pylibsrtp's extension module carries its own libsrtp2 and OpenSSL and exports srtp_*.
if PYSRTP=$(python3 -c 'import pylibsrtp._binding as b; print(b.__file__)' 2>/dev/null); then
  PYLIB=$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
  PYVER=$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("LDVERSION"))')
  if cc -O2 -Wall -o "$OUT/libsrtp_bench_openssl" "$SRC" "$PYSRTP" -L"$PYLIB" -l"python$PYVER" \
    -Wl,-rpath,"$(dirname "$PYSRTP")" -Wl,-rpath,"$PYLIB"; then
    PEERS+=(--peer "libsrtp2 (C), pylibsrtp's OpenSSL build=$OUT/libsrtp_bench_openssl")
  else
    echo "srtp-bench: could not link against pylibsrtp's libsrtp2; that column is left out" >&2
  fi
else
  echo "srtp-bench: python3 has no pylibsrtp; the OpenSSL libsrtp2 column is left out" >&2
fi

CARGO_INCREMENTAL=0 cargo build --locked --release -p sipher-core --example srtp_bench >&2
"$TARGET/release/examples/srtp_bench" "$N" --reps "$REPS" "${PEERS[@]}"
