# shellcheck shell=bash
# Shared helpers for scripts/bench/*-pair.sh and tests/voice/*; source it.
# - BENCH_OUT: results and generated speech (default /tmp/sipher-bench).
# - bench_ns_up PROFILE: namespace $NS up (created if missing) with PROFILE applied; the EXIT trap
#   removes the impairment and deletes the namespace if this script created it.
# - spawn: background processes under `timeout`, tracked by PID; the EXIT trap kills only those.
# - every wait has a deadline in seconds.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/../.." && pwd)
BENCH_OUT=${BENCH_OUT:-/tmp/sipher-bench}
export NS=${NS:-sipherbench}
mkdir -p "$BENCH_OUT"
PIDS=()
CREATED_NS=0

now_ms() { date +%s%3N; }

# wait_for FILE REGEX SECONDS: 0 once an extended REGEX matches a line of FILE, 1 at the deadline.
wait_for() {
  local end=$(($(now_ms) + $3 * 1000))
  while [ "$(now_ms)" -lt $end ]; do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_pid PID SECONDS: the exit code of PID, or 255 if it still runs at the deadline.
wait_pid() {
  local pid=$1 end=$(($(now_ms) + $2 * 1000))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$(now_ms)" -ge $end ] && return 255
    sleep 0.1
  done
  wait "$pid"
}

# stop_pid PID: TERM, KILL after 3 s.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  wait_pid "$1" 3 >/dev/null 2>&1
  [ $? = 255 ] && { kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
  return 0
}

bench_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
  if [ "$CREATED_NS" = 1 ]; then "$BENCH_DIR/netns.sh" down >/dev/null 2>&1; fi
  return 0
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bench_ns_up PROFILE (one bench run per namespace at a time: the profile is global to it)
bench_ns_up() {
  if [ -z "${BENCH_LOCKED:-}" ]; then # taken once; child bench scripts inherit it
    exec {NS_LOCK}>"/tmp/$NS.lock"
    flock -w 300 "$NS_LOCK" || { echo "bench: namespace $NS busy for 300 s" >&2; return 1; }
    export BENCH_LOCKED=1
  fi
  if ! ip netns list | grep -qw "$NS"; then
    CREATED_NS=1
    "$BENCH_DIR/netns.sh" up >/dev/null || return 1
  fi
  "$BENCH_DIR/netns.sh" profile "$1" >&2
}

# bench_ns_stats: stops the emulator; its counters (JSON, {} for clean) on stdout.
bench_ns_stats() {
  local s
  s=$("$BENCH_DIR/netns.sh" stats 2>/dev/null)
  echo "${s:-{\}}"
}

# nsx CMD...: run inside the namespace.
nsx() { ip netns exec "$NS" "$@"; }

# speech_file KIND RATE_K: generates the speech once; prints the path of that rate's WAV.
speech_file() {
  local f=$BENCH_OUT/speech/speech-$1-$2k.wav
  [ -f "$f" ] || "$BENCH_DIR/make-speech.sh" "$BENCH_OUT/speech" "$1" >/dev/null || return 1
  echo "$f"
}

# wav_seconds FILE
wav_seconds() { soxi -D "$1" 2>/dev/null || echo 0; }
