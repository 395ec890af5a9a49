#!/bin/bash
# ZRTP set-up time on the wire, Sipher↔Sipher beside linphonec↔linphonec in the same run, on the
# namespace's loopback ("clean") and under the emulated "3g-typical" link (netns.sh profiles).
# Usage: zrtp-setup.sh [R_CLEAN [R_3G]]      (defaults 10 and 5 calls per pair and profile)
# Env: SIPHER (default $CARGO_TARGET_DIR/release/sipher, else target/release/sipher), BENCH_OUT
#      (default /tmp/sipher-bench), NS (default sipherzrtp: its own namespace, so the voice bench
#      can run beside it), PROFILES (default "clean 3g-typical"), PAIRS (default
#      "sipher linphone linphone-x255").
# Pairs, each a direct call (no registrar) inside the namespace, caller -> callee, PCMU, ZRTP
# mandatory, fresh identities and empty caches on every call (no retained secrets: each call is a
# first call):
#   sipher         `sipher call` (SIP 5080) -> `sipher answer` (SIP 5082), Sipher's own preferences
#                  (X25519 first)
#   linphone       linphonec 1000 (5070) -> linphonec 1001 (5072, auto-answer), linphonec's default
#                  ZRTP suite (DH3k)
#   linphone-x255  the same with both linphonec offering X255 first (the key agreement Sipher picks)
# Each call is captured with tcpdump on the namespace's lo (UDP only, first 2000 bytes of each
# packet); zrtp-pcap.py measures, from the first ZRTP Hello on the wire, the time to the first
# Conf2ACK (both sides have their SRTP keys) and to media flowing both ways, and reads the
# negotiated algorithms from the Initiator's Commit. The calls of the pairs alternate, so both see
# the same machine load. Under the 3G profile the capture sees each packet after the emulated delay
# (the emulator sits on the namespace's OUTPUT path), as the receiver would.
# Output: $BENCH_OUT/zrtp-setup/PROFILE/PAIR-N/{cap.pcap,*.out,...}, results.jsonl and a table
# (median and p90 over the calls that reached Conf2ACK; "ok" counts them). Needs root.
set -u
export NS=${NS:-sipherzrtp}
. "$(dirname "$0")/lib.sh"
R_CLEAN=${1:-10}
R_3G=${2:-5}
PROFILES=${PROFILES:-clean 3g-typical}
PAIRS=${PAIRS:-sipher linphone linphone-x255}
SIPHER=${SIPHER:-${CARGO_TARGET_DIR:-$REPO_DIR/target}/release/sipher}
OUT=$BENCH_OUT/zrtp-setup
RESULTS=$OUT/results.jsonl
X255_SUITE='[sip]
zrtp_key_agreements_suites=MS_ZRTP_KEY_AGREEMENT_X255,MS_ZRTP_KEY_AGREEMENT_DH3K'

[ -x "$SIPHER" ] || { echo "zrtp-setup: no sipher binary at $SIPHER (cargo build --release)" >&2; exit 2; }
for tool in tcpdump linphonec jq sox; do
  command -v $tool >/dev/null || { echo "zrtp-setup: $tool missing" >&2; exit 2; }
done
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$RESULTS"

main() {
  local profile reps i pair
  for profile in $PROFILES; do
    reps=$R_CLEAN
    [ "$profile" = clean ] || reps=$R_3G
    bench_ns_up "$profile" || exit 1
    # Talk time after connect: long enough for a 3G exchange with a few retransmissions.
    HOLD=3
    [ "$profile" = clean ] || HOLD=8
    sox -D -n -r 8000 -c 1 -b 16 "$OUT/silence.wav" trim 0 $((HOLD + 10))
    for i in $(seq 1 "$reps"); do
      for pair in $PAIRS; do
        one_call "$profile" "$pair" "$i"
      done
    done
    echo "netem: $(bench_ns_stats | tr -d '\n' | cut -c1-300)" >&2
  done
  table
}

# one_call PROFILE PAIR N: one captured call; appends a JSON line to $RESULTS.
one_call() {
  local profile=$1 pair=$2 n=$3 d=$OUT/$1/$2-$3 cap js
  mkdir -p "$d"
  timeout -k 2 $((HOLD + 60)) ip netns exec "$NS" tcpdump -i lo -n -s 2000 -U --immediate-mode \
    -w "$d/cap.pcap" udp >/dev/null 2>"$d/tcpdump.err" &
  cap=$!
  PIDS+=("$cap")
  wait_for "$d/tcpdump.err" 'listening on' 10 || echo "zrtp-setup: tcpdump not listening" >&2
  case $pair in
    sipher) sipher_call "$d" ;;
    linphone) linphone_call "$d" "" ;;
    linphone-x255) linphone_call "$d" "$X255_SUITE" ;;
  esac
  sleep 0.5 # the last packets reach the capture
  stop_pid "$cap"
  js=$(python3 "$BENCH_DIR/zrtp-pcap.py" "$d/cap.pcap" 2>"$d/pcap.err" || echo '{"error":"zrtp-pcap.py failed"}')
  jq -c --arg p "$profile" --arg pair "$pair" --argjson n "$n" --arg sas "${SAS_PAIR:-}" \
    '. + {profile: $p, pair: $pair, n: $n, sas_both: $sas}' <<<"$js" | tee -a "$RESULTS" >&2
}

# sipher_call DIR: `sipher call` -> `sipher answer`, both in the namespace. Sets SAS_PAIR to the two
# SAS values ("a=b") from their security events.
sipher_call() {
  local d=$1 ans caller
  timeout -k 2 $((HOLD + 40)) ip netns exec "$NS" "$SIPHER" answer --bind 127.0.0.1:5082 \
    --media-encryption zrtp --codec pcmu --max-calls 1 --json >"$d/answer.out" 2>"$d/answer.err" </dev/null &
  ans=$!
  PIDS+=("$ans")
  wait_for "$d/answer.out" '"event":"listening"' 10 || echo "zrtp-setup: sipher answer not listening" >&2
  timeout -k 2 $((HOLD + 40)) ip netns exec "$NS" "$SIPHER" call sip:bench@127.0.0.1:5082 \
    --bind 127.0.0.1:5080 --media-encryption zrtp --codec pcmu --duration "$HOLD" --timeout 20 \
    --json >"$d/call.out" 2>"$d/call.err" </dev/null &
  caller=$!
  PIDS+=("$caller")
  wait_pid "$caller" $((HOLD + 35)) >/dev/null 2>&1
  [ $? = 255 ] && stop_pid "$caller"
  wait_pid "$ans" 10 >/dev/null 2>&1
  [ $? = 255 ] && stop_pid "$ans"
  SAS_PAIR="$(sipher_sas "$d/call.out")=$(sipher_sas "$d/answer.out")"
}
sipher_sas() { jq -r 'select(.event == "security") | .sas' "$1" 2>/dev/null | tail -1; }

# linphone_call DIR EXTRA_RC: linphonec a -> linphonec b (auto-answer), both in the namespace.
linphone_call() {
  local d=$1 extra=$2 w fd pid
  declare -A fds=() pids=()
  for w in a b; do
    mkdir -p "$d/$w/.local/share/linphone"
    {
      sed -e 's/^media_encryption=.*/media_encryption=zrtp/' \
        -e 's/^media_encryption_mandatory=.*/media_encryption_mandatory=1/' \
        "$BENCH_DIR/linphone/linphone-$w.rc"
      linphone_pcmu_only
      [ -n "$extra" ] && printf '%s\n' "$extra"
    } >"$d/$w/rc"
    mkfifo "$d/$w/in"
    exec {fd}<>"$d/$w/in"
    fds[$w]=$fd
    local args=()
    [ $w = b ] && args=(-a)
    HOME=$d/$w timeout -k 2 $((HOLD + 40)) ip netns exec "$NS" linphonec -c "$d/$w/rc" -d 6 \
      -l "$d/$w/log" "${args[@]}" <"$d/$w/in" >"$d/$w/out" 2>&1 &
    pids[$w]=$!
    PIDS+=("$!")
    echo "soundcard use files" >&"$fd"
    echo "play $OUT/silence.wav" >&"$fd"
  done
  wait_for "$d/a/log" 'reachability state is now \[UP\]' 15 && wait_for "$d/b/log" 'reachability state is now \[UP\]' 15 \
    || echo "zrtp-setup: linphonec not up" >&2
  echo "call sip:1001@127.0.0.1:5072" >&"${fds[a]}"
  wait_for "$d/a/out" 'auth token is' $((HOLD + 15)) || echo "zrtp-setup: linphonec a shows no SAS" >&2
  sleep "$HOLD"
  echo terminate >&"${fds[a]}"
  wait_for "$d/b/out" '[Cc]all .*ended|[Ee]nded' 10
  for w in a b; do echo quit >&"${fds[$w]}"; done
  for w in a b; do
    pid=${pids[$w]}
    wait_pid "$pid" 8 >/dev/null 2>&1
    [ $? = 255 ] && stop_pid "$pid"
    fd=${fds[$w]}
    exec {fd}>&-
  done
  SAS_PAIR="$(lp_sas "$d/a/out")=$(lp_sas "$d/b/out")"
}
lp_sas() { grep -oE 'auth token is [^ ]+' "$1" 2>/dev/null | tail -1 | awk '{print $4}' | sed 's/\.$//'; }

# linphone_pcmu_only: [audio_codec_N] sections with only PCMU enabled (every codec linphonec 5.1
# knows is listed: unlisted ones come back with their defaults).
linphone_pcmu_only() {
  local i=0 m r c
  for m in "opus 48000 2" "PCMU 8000 1" "PCMA 8000 1" "speex 16000 1" "speex 8000 1" \
    "speex 32000 1" "GSM 8000 1" "G722 8000 1" "G729 8000 1" "L16 44100 2" "L16 44100 1"; do
    read -r m r c <<<"$m"
    printf '\n[audio_codec_%d]\nmime=%s\nrate=%s\nchannels=%s\nenabled=%d\n' "$i" "$m" "$r" "$c" \
      "$([ "$m" = PCMU ] && echo 1 || echo 0)"
    i=$((i + 1))
  done
}

# table: median and p90 per profile and pair (nearest rank), from $RESULTS.
table() {
  python3 - "$RESULTS" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def pct(xs, p):
    xs = sorted(xs)
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)] if xs else None
def fmt(x):
    return "n/a" if x is None else f"{x:.1f}" if x < 10 else f"{x:.0f}"
print(f"\nZRTP set-up on the wire (ms from the first Hello), load average at the end: {sys.argv[2]}")
print("Hello: first ZRTP Hello -> first Conf2ACK; 200 OK: the INVITE's 200 OK -> first Conf2ACK;")
print("media: first Hello -> media flowing both ways. Median and p90 of the calls that reached")
print("Conf2ACK (ok); ZRTP pkts: median ZRTP packets per call; SAS equal: both ends showed one SAS.")
print(f"{'profile':<11} {'pair':<22} {'negotiated':<15} {'ok':>5} {'Hello med':>9} {'p90':>5} "
      f"{'200 OK med':>10} {'p90':>5} {'media med':>9} {'p90':>5} {'ZRTP pkts':>9} {'SAS equal':>9}")
keys = []
for r in rows:
    k = (r["profile"], r["pair"])
    if k not in keys:
        keys.append(k)
names = {"sipher": "sipher -> sipher", "linphone": "linphonec -> linphonec",
         "linphone-x255": "linphonec -> linphonec"}
for prof, pair in keys:
    rs = [r for r in rows if (r["profile"], r["pair"]) == (prof, pair)]
    ok = [r for r in rs if "hello_to_conf2ack_ms" in r]
    c2 = [r["hello_to_conf2ack_ms"] for r in ok]
    media = [r["hello_to_media_ms"] for r in ok if "hello_to_media_ms" in r]
    answered = [r["ok_to_conf2ack_ms"] for r in ok if "ok_to_conf2ack_ms" in r]
    pkts = [sum(r["messages"].values()) for r in ok]
    negotiated = sorted({f'{r.get("key_agreement", "?")}/{r.get("cipher", "?")}/{r.get("hash", "?")}'
                         for r in ok})
    sas_eq = sum(1 for r in rs if "=" in r["sas_both"] and r["sas_both"].split("=")[0]
                 and len(set(r["sas_both"].split("="))) == 1)
    print(f"{prof:<11} {names.get(pair, pair):<22} {','.join(negotiated):<15} "
          f"{len(ok):>2}/{len(rs):<2} {fmt(pct(c2, 50)):>9} {fmt(pct(c2, 90)):>5} "
          f"{fmt(pct(answered, 50)):>10} {fmt(pct(answered, 90)):>5} "
          f"{fmt(pct(media, 50)):>9} {fmt(pct(media, 90)):>5} {fmt(pct(pkts, 50)):>9} "
          f"{sas_eq:>6}/{len(rs)}")
PY
}

main
