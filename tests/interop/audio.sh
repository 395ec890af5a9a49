#!/bin/bash
# Voice interop: sipher carries speech to and from linphonec and baresip through kamailio on
# 127.0.0.1, and each recording is scored against the speech that was sent with PESQ
# (scripts/bench/score.py: wb = P.862.2 at 16 kHz for Opus, nb = P.862.1 at 8 kHz for G.711).
#   SIPHER=path/to/sipher tests/interop/audio.sh [TEST...]
# SIPHER defaults to $CARGO_TARGET_DIR/debug/sipher, else target/debug/sipher of this repo.
# Tests (all by default; name some to run only those):
#   linphone-opus  sipher 1000 calls linphonec 1001 (auto-answer, Opus only): sipher plays the
#                  speech, linphonec records; linphonec plays it, sipher records; both scored wb
#   linphone-pcmu  linphonec 1001 (PCMU only) calls `sipher answer --codec pcmu` 1000; both
#                  directions scored nb
#   baresip-pcmu   baresip 1002 (G.711 only, no SRTP, aufile speech at 8 kHz) calls sipher 1003;
#                  what sipher records is scored nb (baresip's aubridge player discards audio)
#   tls-opus       sipher 1002 -> kamailio (TLS) -> sipher 1003, Opus, both directions scored wb
# A direction passes at PESQ MOS-LQO >= $MIN_MOS (default 3.0). Speech (scripts/bench/make-speech.sh,
# made in $RUNDIR): A = the "short" bench speech (Harvard sentences 1-3, ~10.7 s), sent by the
# caller (test 2: by sipher); B = sentences 4-6 (10 s), sent the other way. Different speech per
# direction, so a phone that recorded its own microphone (or an echo) would not score.
# Ports: kamailio 5060/5061, linphonec 5072/5073 and RTP 7088-7091, baresip SIP 5074 and RTP
# 7100-7109 (console 5556), sipher ephemeral. Every process runs under `timeout`; prints PASS/FAIL
# lines, a PESQ table and "N passed, M failed"; exit 1 on any failure.
set -u
. "$(dirname "$0")/lib.sh"

SIPHER=${SIPHER:-${CARGO_TARGET_DIR:-$REPO_DIR/target}/debug/sipher}
case $SIPHER in /*) ;; *) SIPHER=$PWD/$SIPHER ;; esac
MIN_MOS=${MIN_MOS:-3.0}
SCORE_PY=$REPO_DIR/scripts/bench/score.py
ALL_TESTS=(linphone-opus linphone-pcmu baresip-pcmu tls-opus)
TESTS=("$@")
[ ${#TESTS[@]} = 0 ] && TESTS=("${ALL_TESTS[@]}")
# Talk time after connect: the speech (~10.7 s) plus room for setup skew and the jitter buffer.
TALK=13
TABLE=()   # "test|direction|codec|mode|mos|detail" rows for the closing PESQ table

main() {
  echo "sipher: $SIPHER   RUNDIR: $RUNDIR"
  speech_and_kamailio_up || { summary; exit 1; }
  cd "$RUNDIR" || exit 1
  local t
  for t in "${TESTS[@]}"; do
    case $t in
      linphone-opus) test_sipher_calls_linphone_opus ;;
      linphone-pcmu) test_linphone_calls_sipher_pcmu ;;
      baresip-pcmu) test_baresip_calls_sipher_pcmu ;;
      tls-opus) test_sipher_sipher_tls_opus ;;
      *) fail "unknown test '$t'" "known: ${ALL_TESTS[*]}" ;;
    esac
  done
  print_table
  summary
}

# write_account FILE USER TRANSPORT: a sipher account file for kamailio on 127.0.0.1.
write_account() {
  {
    echo "user = \"$2\""
    echo "password = \"pw$2\""
    echo 'domain = "127.0.0.1"'
    echo "transport = \"$3\""
    if [ "$3" = tls ]; then
      echo 'port = 5061'
      echo "ca_file = \"$KCERT\""
    fi
    echo 'expires = 600'
  } >"$1"
}

# score_dir TEST DIRECTION CODEC MODE REFERENCE RECORDING: scores RECORDING against REFERENCE,
# prints a PASS/FAIL line (MOS >= MIN_MOS) and adds a row to the PESQ table.
score_dir() {
  local test=$1 dir=$2 codec=$3 mode=$4 ref=$5 rec=$6 js mos detail ok=1
  if [ -s "$rec" ]; then
    js=$(python3 "$SCORE_PY" "$ref" "$rec" --mode "$mode" --json 2>"$rec.score.err" | tail -1)
  else
    js='{"mos": null, "error": "no recording"}'
  fi
  echo "$js" >"$rec.score.json"
  mos=$(jq -r '.mos // empty' <<<"$js" 2>/dev/null)
  detail=$(jq -r 'if .mos then "offset \(.offset_ms) ms, corr \(.corr), level \(.level_db) dB"
                  else (.error // "score.py failed") end' <<<"$js" 2>/dev/null)
  [ -n "$detail" ] || detail="score.py: $(tail -c 200 "$rec.score.err" | paste -sd'|' -)"
  if [ -n "$mos" ] && python3 -c "import sys; sys.exit(0 if $mos >= $MIN_MOS else 1)"; then ok=0; fi
  check "$test: $dir speech PESQ-$mode >= $MIN_MOS" $ok "MOS-LQO ${mos:-n/a}; $detail; $rec"
  TABLE+=("$test|$dir|$codec|$mode|${mos:-n/a}|$detail")
}

print_table() {
  [ ${#TABLE[@]} -gt 0 ] || return 0
  echo
  echo "PESQ (MOS-LQO, pass >= $MIN_MOS):"
  printf '  %-14s %-22s %-6s %-4s %-6s %s\n' test direction codec mode mos detail
  local row
  for row in "${TABLE[@]}"; do
    IFS='|' read -r t d c m s x <<<"$row"
    printf '  %-14s %-22s %-6s %-4s %-6s %s\n' "$t" "$d" "$c" "$m" "$s" "$x"
  done
  echo
}

# media_codec FILE: the codec names of sipher's "media" events, comma-separated.
media_codec() { json_events "$1" '.event == "media"' | jq -r .codec | sort -u | paste -sd, -; }
# quality_detail FILE: the last "quality" event, short.
quality_detail() {
  json_events "$1" '.event == "quality"' | tail -1 \
    | jq -r '"quality: mos \(.mos) loss \(.loss) jitter \(.jitter_ms) ms jb \(.jb_delay_ms) ms late \(.late) lost \(.lost) concealed \(.concealed)"' 2>/dev/null
}
# check_codec TEST FILE CODEC: sipher's media event names CODEC (case-insensitive).
check_codec() {
  local got
  got=$(media_codec "$2")
  [ -n "$got" ] && [ "${got,,}" = "${3,,}" ]
  check "$1: sipher negotiated $3" $? "media codec: ${got:-none}; $(quality_detail "$2")"
}

# check_rtcp TEST SIPHER-OUT [LINPHONEC-LOG]: RTCP goes where the SDP says. Neither side offers
# a=rtcp-mux here, so RTCP belongs on the RTP port + 1 (RFC 3550 / RFC 5761 section 5.1.3):
# sipher must then get the peer's reports (its quality event has an rtt_ms), and linphonec must not
# find RTCP on its RTP port (oRTP logs such a packet as "unknown payload type 72..76"; seen: its
# playout skips or garbles ~10 ms of audio near each one, which costs PESQ).
check_rtcp() {
  local ok=0 rtt n=0
  rtt=$(json_events "$2" '.event == "quality"' | jq -r '.rtt_ms // empty' | tail -1)
  [ -n "$rtt" ] || ok=1
  if [ -n "${3:-}" ]; then
    n=$(grep -cE 'unknown payload type 7[2-6]\.' "$3")
    [ "$n" = 0 ] || ok=1
  fi
  check "$1: RTCP on the negotiated ports both ways (no a=rtcp-mux)" $ok \
    "sipher rtt_ms: ${rtt:-none (no RTCP from the peer arrived)}${3:+; RTCP packets on the linphonec RTP port: $n}"
}

# Test 1: sipher 1000 -> kamailio -> linphonec 1001 (auto-answer, Opus only); speech both ways.
test_sipher_calls_linphone_opus() {
  local T=linphone-opus rc lp=$RUNDIR/lp-opus name=call-lp-opus
  write_account "$RUNDIR/acc-1000-udp.toml" 1000 udp
  LP_RC_EXTRA=$(linphone_codec_sections opus) linphone_start lp-opus b udp none 60 -a
  lp_cmd lp-opus "play $SPB16"
  if ! linphone_registered lp-opus 15; then
    fail "$T: call" "linphonec 1001 did not register: $lp/log"
    linphone_stop lp-opus
    return
  fi
  spawn "$name" 40 "$SIPHER" call sip:1001@127.0.0.1 --account "$RUNDIR/acc-1000-udp.toml" --json \
    --codec opus --play "$SP48" --record "$RUNDIR/$name.wav" --duration $TALK --timeout 15
  finish_pid "$SPAWNED_PID" 35
  rc=$?
  [ $rc = 0 ] && states_in_order "$name.out" call connected ended
  check "$T: sipher 1000 -> linphonec 1001 connected, ended, exit 0" $? \
    "rc=$rc call states: $(event_states "$name.out" call); $RUNDIR/$name.{out,err}"
  check_codec "$T" "$name.out" opus
  wait_for "$lp/out" 'Call [0-9]+ with .* ended' 5
  linphone_stop lp-opus
  check_rtcp "$T" "$name.out" "$lp/log"
  score_dir "$T" "sipher -> linphonec" opus wb "$SP48" "$lp/rec.wav"
  score_dir "$T" "linphonec -> sipher" opus wb "$SPB16" "$RUNDIR/$name.wav"
}

# Test 2: linphonec 1001 (PCMU only) -> kamailio -> `sipher answer` 1000 --codec pcmu.
test_linphone_calls_sipher_pcmu() {
  local T=linphone-pcmu pid rc lp=$RUNDIR/lp-pcmu name=answer-lp-pcmu
  write_account "$RUNDIR/acc-1000-udp.toml" 1000 udp
  spawn "$name" 60 "$SIPHER" answer --account "$RUNDIR/acc-1000-udp.toml" --json --max-calls 1 \
    --codec pcmu --play "$SP8" --record "$RUNDIR/$name.wav" --duration $TALK
  pid=$SPAWNED_PID
  LP_RC_EXTRA=$(linphone_codec_sections PCMU) linphone_start lp-pcmu b udp none 60
  lp_cmd lp-pcmu "play $SPB8"
  if ! wait_event "$name.out" '.event == "registration" and .state == "registered"' 10 \
    || ! linphone_registered lp-pcmu 15; then
    fail "$T: call" "registration failed: $RUNDIR/$name.{out,err} $lp/log"
    linphone_stop lp-pcmu
    stop_pid "$pid"
    return
  fi
  lp_cmd lp-pcmu "call sip:1000@127.0.0.1"
  finish_pid "$pid" $((TALK + 20))
  rc=$?
  [ $rc = 0 ] && states_in_order "$name.out" call connected ended
  check "$T: linphonec 1001 -> sipher 1000 connected, ended, exit 0" $? \
    "rc=$rc call states: $(event_states "$name.out" call); $RUNDIR/$name.{out,err}"
  check_codec "$T" "$name.out" pcmu
  wait_for "$lp/out" 'Call [0-9]+ with .* ended' 5
  linphone_stop lp-pcmu
  check_rtcp "$T" "$name.out" "$lp/log"
  score_dir "$T" "sipher -> linphonec" pcmu nb "$SP8" "$lp/rec.wav"
  score_dir "$T" "linphonec -> sipher" pcmu nb "$SPB8" "$RUNDIR/$name.wav"
}

# Test 3: baresip 1002 (aufile speech at 8 kHz, G.711 only, no SRTP) -> kamailio -> sipher 1003.
test_baresip_calls_sipher_pcmu() {
  local T=baresip-pcmu pid bpid rc d=$RUNDIR/baresip-pcmu name=answer-baresip
  write_account "$RUNDIR/acc-1003-udp.toml" 1003 udp
  rm -rf "$d"
  mkdir -p "$d"
  baresip_config "$d" 5074 7100 5556 "$SP8"
  echo '<sip:1002@127.0.0.1;transport=udp>;auth_pass=pw1002;regint=600;outbound="sip:127.0.0.1:5060";audio_codecs=PCMU' \
    >"$d/accounts"
  : >"$d/contacts"
  spawn "$name" 60 "$SIPHER" answer --account "$RUNDIR/acc-1003-udp.toml" --json --max-calls 1 \
    --codec pcmu --record "$RUNDIR/$name.wav" --duration $TALK
  pid=$SPAWNED_PID
  if ! wait_event "$name.out" '.event == "registration" and .state == "registered"' 10; then
    fail "$T: call" "sipher 1003 did not register: $RUNDIR/$name.{out,err}"
    stop_pid "$pid"
    return
  fi
  # -t: baresip quits by itself after the talk time (sipher hangs up first)
  spawn baresip-pcmu 45 env HOME="$d" baresip -4 -v -f "$d" -t $((TALK + 12)) -e "/dial sip:1003@127.0.0.1"
  bpid=$SPAWNED_PID
  finish_pid "$pid" $((TALK + 20))
  rc=$?
  [ $rc = 0 ] && states_in_order "$name.out" call connected ended
  check "$T: baresip 1002 -> sipher 1003 connected, ended, exit 0" $? \
    "rc=$rc call states: $(event_states "$name.out" call); $RUNDIR/$name.{out,err} $RUNDIR/baresip-pcmu.out"
  check_codec "$T" "$name.out" pcmu
  tr '\r' '\n' <"$RUNDIR/baresip-pcmu.out" | grep -q 'Call established'
  check "$T: baresip reports the call established" $? "$RUNDIR/baresip-pcmu.out"
  stop_pid "$bpid"
  check_rtcp "$T" "$name.out"
  score_dir "$T" "baresip -> sipher" pcmu nb "$SP8" "$RUNDIR/$name.wav"
}

# baresip_config DIR SIP-PORT RTP-LOW CONSOLE-PORT SOURCE-WAV: headless baresip 1.0.0 on
# 127.0.0.1 with G.711 only; aufile needs a WAV at exactly ausrc_srate (8 kHz mono), the aubridge
# player discards what arrives. net_interface must be the address, not "lo".
baresip_config() {
  cat >"$1/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:$2
sip_trans_def		udp
net_interface		127.0.0.1
call_local_timeout	120
call_max_calls		4
audio_player		aubridge,bs
audio_source		aufile,$5
audio_alert		aubridge,bs
ausrc_srate		8000
auplay_srate		8000
ausrc_channels		1
auplay_channels		1
rtp_tos			0
rtp_ports		$3-$(($3 + 9))
rtp_stats		yes
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			cons.so
module_app		account.so
module_app		menu.so
cons_listen		127.0.0.1:$4
CFG
}

# Test 4: sipher 1002 -> kamailio (TLS both legs) -> sipher 1003, Opus, speech both ways.
test_sipher_sipher_tls_opus() {
  local T=tls-opus apid cpid arc crc callee=answer-tls-opus caller=call-tls-opus
  write_account "$RUNDIR/acc-1003-tls.toml" 1003 tls
  write_account "$RUNDIR/acc-1002-tls.toml" 1002 tls
  spawn "$callee" 50 "$SIPHER" answer --account "$RUNDIR/acc-1003-tls.toml" --json --max-calls 1 \
    --codec opus --play "$SPB48" --record "$RUNDIR/$callee.wav"
  apid=$SPAWNED_PID
  if ! wait_event "$callee.out" '.event == "registration" and .state == "registered"' 10; then
    fail "$T: call" "callee did not register over TLS: $RUNDIR/$callee.{out,err}"
    stop_pid "$apid"
    return
  fi
  spawn "$caller" 40 "$SIPHER" call sip:1003@127.0.0.1 --account "$RUNDIR/acc-1002-tls.toml" --json \
    --codec opus --play "$SP48" --record "$RUNDIR/$caller.wav" --duration $TALK --timeout 15
  cpid=$SPAWNED_PID
  finish_pid "$cpid" 35
  crc=$?
  finish_pid "$apid" 10
  arc=$?
  [ $crc = 0 ] && [ $arc = 0 ] && states_in_order "$caller.out" call connected ended \
    && states_in_order "$callee.out" call connected ended
  check "$T: sipher 1002 -> sipher 1003 over TLS connected, ended, both exit 0" $? \
    "rc=$crc/$arc caller: $(event_states "$caller.out" call); callee: $(event_states "$callee.out" call)"
  check_codec "$T" "$caller.out" opus
  score_dir "$T" "caller -> callee" opus wb "$SP48" "$RUNDIR/$callee.wav"
  score_dir "$T" "callee -> caller" opus wb "$SPB48" "$RUNDIR/$caller.wav"
}

main
