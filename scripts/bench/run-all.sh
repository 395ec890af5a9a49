#!/bin/bash
# The whole voice bench: speech, a UDP probe of every profile, then Linphone and Sipher pairs for
# every profile × codec, and BENCHMARKS.md's tables rewritten from the results.
# Usage: run-all.sh [--no-probe] [--peers "linphone sipher"] [--profiles "clean 3g-good ..."]
#                   [--codecs "opus pcmu"] [--repeat N]
# With --repeat N each pair runs N times and the table shows the median run (result.json of that
# cell gets "runs": every run's MOS).
# Results stay in $BENCH_OUT/results (default /tmp/sipher-bench/results); the tables are rendered
# from every result there, so a partial run (e.g. --peers sipher) keeps the other column.
# ≈ 40 s per pair and 25 s per probe: ≈ 12 minutes for everything. Needs root (namespace).
set -u
. "$(dirname "$0")/lib.sh"
PROBE=1
PEERS="linphone sipher"
PROFILES="clean 3g-good 3g-typical 3g-bad"
CODECS="opus pcmu"
REPEAT=1
while [ $# -gt 0 ]; do
  case $1 in
    --no-probe) PROBE=0 ;;
    --peers) PEERS=$2; shift ;;
    --profiles) PROFILES=$2; shift ;;
    --codecs) CODECS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
  shift
done
RES=$BENCH_OUT/results
mkdir -p "$RES"
"$BENCH_DIR/make-speech.sh" "$BENCH_OUT/speech" long >/dev/null || exit 1
if [ $PROBE = 1 ]; then
  for p in $PROFILES; do
    bench_ns_up "$p" || { echo "run-all: profile $p failed, not probed" >&2; continue; }
    # 108-byte probes every 20 ms both ways (≈120 kbit/s on the wire) would saturate 3g-bad's
    # 64 kbit/s and measure its queue instead of its delay: probe it every 50 ms (≈60 kbit/s).
    if [ "$p" = 3g-bad ]; then n=600 iv=0.05; else n=1000 iv=0.02; fi
    probe=$("$BENCH_DIR/netns.sh" probe $n $iv --json)
    netem=$(bench_ns_stats)
    jq -c --argjson n "$netem" --argjson iv "$iv" '. + {netem: $n, interval_s: $iv}' <<<"$probe" |
      tee "$RES/probe-$p.json"
  done
fi
for peer in $PEERS; do
  for p in $PROFILES; do
    for c in $CODECS; do
      runs=()
      for ((i = 1; i <= REPEAT; i++)); do
        echo "== $peer $p $c (run $i/$REPEAT)" >&2
        "$BENCH_DIR/$peer-pair.sh" "$p" "$c" | tail -1 >"$RES/.run"
        cat "$RES/.run"
        cp -r "$RES/$peer-$p-$c" "$RES/.run-$i" 2>/dev/null
        runs+=("$RES/.run-$i")
      done
      if [ "$REPEAT" -gt 1 ]; then # keep the median run's directory, with every run's MOS
        keep=$(python3 "$BENCH_DIR/median-run.py" "${runs[@]}") &&
          rm -rf "$RES/$peer-$p-$c" && mv "$keep" "$RES/$peer-$p-$c"
      fi
      rm -rf "$RES"/.run-*
    done
  done
done
python3 "$BENCH_DIR/render.py" "$REPO_DIR/BENCHMARKS.md" "$RES"
echo "run-all: tables in $REPO_DIR/BENCHMARKS.md rewritten from $RES" >&2
