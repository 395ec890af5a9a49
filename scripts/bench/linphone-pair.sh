#!/bin/bash
# Linphone baseline of the voice bench: two headless linphonec on the namespace's loopback, A
# (1000, SIP 5070) calls B (1001, SIP 5072) directly (no registrar), A plays the bench speech as
# its microphone, B auto-answers and records; the recording is scored with PESQ.
# Usage: linphone-pair.sh PROFILE CODEC      PROFILE: clean|3g-good|3g-typical|3g-bad
#                                            CODEC: opus (16 kHz speech, PESQ wb) | pcmu (8 kHz, nb)
# Env: BENCH_OUT (default /tmp/sipher-bench), NS (default sipherbench), SPEECH=long|short.
# Output: $BENCH_OUT/results/linphone-PROFILE-CODEC/{a,b}/{rc,out,log,rec.wav}, result.json; the
# last stdout line is result.json (one JSON object). Exit 0 when a score was produced.
set -u
. "$(dirname "$0")/lib.sh"
PROFILE=${1:?usage: linphone-pair.sh PROFILE opus|pcmu}
CODEC=${2:?usage: linphone-pair.sh PROFILE opus|pcmu}
KIND=${SPEECH:-long}
case $CODEC in
  opus) RATE_K=16; MODE=wb; MIME=opus ;;
  pcmu) RATE_K=8; MODE=nb; MIME=PCMU ;;
  *) echo "linphone-pair: codec must be opus or pcmu" >&2; exit 2 ;;
esac
command -v linphonec >/dev/null || { echo "linphone-pair: linphonec missing (scripts/install-deps.sh)" >&2; exit 2; }
SPEECH_WAV=$(speech_file "$KIND" "$RATE_K") || exit 1
SECS=$(wav_seconds "$SPEECH_WAV")
D=$BENCH_OUT/results/linphone-$PROFILE-$CODEC
rm -rf "$D"
mkdir -p "$D"
bench_ns_up "$PROFILE" || exit 1
# Talk time: the speech, plus the worst profile's one-way delay and jitter buffer, plus a margin.
HOLD=$(python3 -c "print(int($SECS + 4.5))")
LIFE=$((HOLD + 40))
declare -A FD=()

# codec_sections ENABLED_MIME: [audio_codec_N] sections with only that codec enabled (every codec
# linphonec 5.1 knows is listed, since unlisted ones would be added back with their defaults).
codec_sections() {
  local i=0 m r c
  while read -r m r c; do
    printf '\n[audio_codec_%d]\nmime=%s\nrate=%s\nchannels=%s\nenabled=%d\n' "$i" "$m" "$r" "$c" \
      "$([ "$m" = "$1" ] && echo 1 || echo 0)"
    [ "$m" = opus ] && echo "recv_fmtp=useinbandfec=1"
    i=$((i + 1))
  done <<'LIST'
opus 48000 2
PCMU 8000 1
PCMA 8000 1
speex 16000 1
speex 8000 1
speex 32000 1
GSM 8000 1
G722 8000 1
G729 8000 1
G726-16 8000 1
G726-24 8000 1
G726-32 8000 1
G726-40 8000 1
AAL2-G726-16 8000 1
AAL2-G726-24 8000 1
AAL2-G726-32 8000 1
AAL2-G726-40 8000 1
L16 44100 2
L16 44100 1
LIST
}

# start_peer a|b [linphonec args...]
start_peer() {
  local w=$1 d=$D/$1 fd
  shift
  mkdir -p "$d/.local/share/linphone"
  { cat "$BENCH_DIR/linphone/linphone-$w.rc"; codec_sections "$MIME"; } >"$d/rc"
  mkfifo "$d/in"
  exec {fd}<>"$d/in"
  FD[$w]=$fd
  HOME=$d timeout -k 2 "$LIFE" ip netns exec "$NS" linphonec -c "$d/rc" -d 6 -l "$d/log" "$@" \
    <"$d/in" >"$d/out" 2>&1 &
  PIDS+=("$!")
  eval "PID_$w=$!"
  cmd "$w" "soundcard use files"
}
cmd() { echo "$2" >&"${FD[$1]}"; }

sox -D -n -r $((RATE_K * 1000)) -c 1 -b 16 "$D/silence.wav" trim 0 "$((HOLD + 5))"
start_peer b -a
cmd b "play $D/silence.wav"
cmd b "record $D/b/rec.wav"
start_peer a
cmd a "play $SPEECH_WAV"
cmd a "record $D/a/rec.wav"
ok=1
wait_for "$D/a/log" 'reachability state is now \[UP\]' 10 && wait_for "$D/b/log" 'reachability state is now \[UP\]' 10 || ok=0
T0=$(now_ms)
cmd a "call sip:1001@127.0.0.1:5072"
# linphonec prints "Call N with <uri> connected." once the 200 OK/ACK exchange is done.
wait_for "$D/a/out" '[Cc]onnected' 20 || { ok=0; echo "linphone-pair: call not connected" >&2; }
SETUP_MS=$(($(now_ms) - T0))
[ $ok = 1 ] && sleep "$HOLD"
cmd a terminate
wait_for "$D/b/out" '[Cc]all .*ended|[Ee]nded' 10
for w in a b; do cmd "$w" quit; done
for w in a b; do eval "p=\$PID_$w"; wait_pid "$p" 8 >/dev/null 2>&1; [ $? = 255 ] && stop_pid "$p"; done
NETEM=$(bench_ns_stats)

META=$(jq -cn --arg at "$(date -u +%FT%TZ)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg v "$(linphonec --version 2>&1 | grep -m1 -oE '[0-9]+\.[0-9]+\.[0-9]+')" \
  '{at: $at, load: $load, linphonec: $v}')
SCORE=$(python3 "$BENCH_DIR/score.py" "$SPEECH_WAV" "$D/b/rec.wav" --mode "$MODE" --json 2>&1 | tail -1)
# mediastreamer's end-of-call RTP counters from B's log (receiving side).
python3 "$BENCH_DIR/linphone-stats.py" "$D/b/log" >"$D/rtp-stats.json" 2>/dev/null || echo '{}' >"$D/rtp-stats.json"
python3 - "$D" "$PROFILE" "$CODEC" "$SETUP_MS" "$SCORE" "$NETEM" "$META" <<'PY' | tee "$D/result.json"
import json, sys
d, profile, codec, setup_ms, score, netem, meta = sys.argv[1:8]
def js(s):
    try: return json.loads(s)
    except ValueError: return {'error': s[-300:]}
out = dict(peer='linphone', profile=profile, codec=codec, setup_ms=int(setup_ms), score=js(score),
           netem=js(netem), rtp=js(open(d + '/rtp-stats.json').read()), meta=js(meta), dir=d)
print(json.dumps(out))
PY
has_score=$(jq -r '.score.mos // empty' "$D/result.json")
[ -n "$has_score" ]
