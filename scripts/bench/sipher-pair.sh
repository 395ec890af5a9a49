#!/bin/bash
# Sipher side of the voice bench, the same set-up as linphone-pair.sh: inside the namespace,
# `sipher answer` (SIP 5082) records what arrives, `sipher call` (SIP 5080) plays the bench speech
# as its microphone and hangs up after the speech; the recording is scored with PESQ.
# Usage: sipher-pair.sh PROFILE CODEC      PROFILE: clean|3g-good|3g-typical|3g-bad
#                                          CODEC: opus (16 kHz speech, PESQ wb) | pcmu (8 kHz, nb)
# Env: SIPHER (binary; default target/release/sipher), BENCH_OUT, NS, SPEECH=long|short.
# Output: $BENCH_OUT/results/sipher-PROFILE-CODEC/{answer,call}.{out,err}, rec.wav, result.json;
# the last stdout line is result.json. Exit 0 when a score was produced; 3 when the binary has no
# --play/--record yet (the voice path is not built), with a JSON line saying so.
set -u
. "$(dirname "$0")/lib.sh"
PROFILE=${1:?usage: sipher-pair.sh PROFILE opus|pcmu}
CODEC=${2:?usage: sipher-pair.sh PROFILE opus|pcmu}
KIND=${SPEECH:-long}
SIPHER=${SIPHER:-$REPO_DIR/target/release/sipher}
case $CODEC in
  opus) RATE_K=16; MODE=wb ;;
  pcmu) RATE_K=8; MODE=nb ;;
  *) echo "sipher-pair: codec must be opus or pcmu" >&2; exit 2 ;;
esac
D=$BENCH_OUT/results/sipher-$PROFILE-$CODEC
rm -rf "$D"
mkdir -p "$D"
unavailable() {
  echo "sipher-pair: $1" >&2
  jq -cn --arg p "$PROFILE" --arg c "$CODEC" --arg e "$1" \
    '{peer: "sipher", profile: $p, codec: $c, score: {mos: null, error: $e}}' | tee "$D/result.json"
  exit 3
}
[ -x "$SIPHER" ] || unavailable "no sipher binary at $SIPHER (cargo build --release)"
HELP=$(timeout 10 "$SIPHER" call --help 2>&1)
for f in --play --record --codec --duration; do
  grep -q -- "$f" <<<"$HELP" || unavailable "$SIPHER call has no $f yet (voice path not built)"
done
SPEECH_WAV=$(speech_file "$KIND" "$RATE_K") || exit 1
SECS=$(wav_seconds "$SPEECH_WAV")
bench_ns_up "$PROFILE" || exit 1
# Same talk time as linphone-pair.sh: the speech plus room for the worst delay and jitter buffer.
HOLD=$(python3 -c "print(int($SECS + 4.5))")
LIFE=$((HOLD + 40))

# SIPHER_EXTRA: more options for both phones, e.g. "--network mobile" (Opus FEC from the start).
read -r -a EXTRA <<<"${SIPHER_EXTRA:-}"
timeout -k 2 "$LIFE" ip netns exec "$NS" "$SIPHER" answer --bind 127.0.0.1:5082 \
  --record "$D/rec.wav" --codec "$CODEC" --max-calls 1 --json "${EXTRA[@]}" >"$D/answer.out" 2>"$D/answer.err" </dev/null &
ANS=$!
PIDS+=("$ANS")
wait_for "$D/answer.out" '"event":"listening"' 10 || echo "sipher-pair: answerer not listening after 10 s" >&2
CMD=("$SIPHER" call sip:bench@127.0.0.1:5082 --bind 127.0.0.1:5080 --play "$SPEECH_WAV" --codec "$CODEC"
  --duration "$HOLD" --timeout 20 --json "${EXTRA[@]}")
echo "${CMD[*]}" >"$D/command.txt"
T0=$(now_ms)
timeout -k 2 "$LIFE" ip netns exec "$NS" "${CMD[@]}" >"$D/call.out" 2>"$D/call.err" </dev/null &
CALLER=$!
PIDS+=("$CALLER")
SETUP_MS=-1
if wait_for "$D/call.out" '"state":"connected"' 25; then SETUP_MS=$(($(now_ms) - T0)); fi
wait_pid "$CALLER" $((HOLD + 30)) >/dev/null 2>&1
[ $? = 255 ] && stop_pid "$CALLER"
wait_pid "$ANS" 10 >/dev/null 2>&1
[ $? = 255 ] && stop_pid "$ANS"
NETEM=$(bench_ns_stats)

META=$(jq -cn --arg at "$(date -u +%FT%TZ)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg bin "$SIPHER" --arg built "$(date -u -r "$SIPHER" +%FT%TZ)" \
  --arg head "$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)" \
  '{at: $at, load: $load, binary: $bin, built: $built, repo_head: $head}')
SCORE=$(python3 "$BENCH_DIR/score.py" "$SPEECH_WAV" "$D/rec.wav" --mode "$MODE" --json 2>&1 | tail -1)
python3 "$BENCH_DIR/sipher-stats.py" "$D/answer.out" >"$D/rtp-stats.json" 2>/dev/null || echo '{}' >"$D/rtp-stats.json"
python3 - "$D" "$PROFILE" "$CODEC" "$SETUP_MS" "$SCORE" "$NETEM" "$META" <<'PY' | tee "$D/result.json"
import json, sys
d, profile, codec, setup_ms, score, netem, meta = sys.argv[1:8]
def js(s):
    try: return json.loads(s)
    except ValueError: return {'error': s[-300:]}
out = dict(peer='sipher', profile=profile, codec=codec, setup_ms=int(setup_ms), score=js(score),
           netem=js(netem), rtp=js(open(d + '/rtp-stats.json').read()), meta=js(meta),
           command=open(d + '/command.txt').read().strip(), dir=d)
print(json.dumps(out))
PY
[ -n "$(jq -r '.score.mos // empty' "$D/result.json")" ]
