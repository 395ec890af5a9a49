#!/bin/bash
# SDES-SRTP interop: sipher with linphonec and baresip, SDES keys carried over TLS through kamailio
# on 127.0.0.1, speech scored with PESQ both ways; a packet capture that proves no clear RTP left
# sipher; and SDES over plain UDP refused before anything is sent.
#   SIPHER=path/to/sipher tests/interop/srtp.sh [TEST...]
# SIPHER defaults to $CARGO_TARGET_DIR/debug/sipher, else target/debug/sipher of this repo.
# Tests (all by default; name some to run only those):
#   linphone   sipher 1000 (TLS, srtp mandatory) calls linphonec 1001 (TLS, SRTP mandatory,
#              auto-answer, Opus), then linphonec calls `sipher answer` (PCMU): each side reports
#              SRTP (sipher's security/media events, linphonec's "Negotiated media encryption is
#              LinphoneMediaEncryptionSRTP"), speech both ways scored (Opus wb, PCMU nb)
#   baresip    baresip 1002 (TLS, mediaenc=srtp-mand, PCMU) calls sipher 1003 (TLS, srtp), then
#              sipher calls baresip (auto-answer); baresip's sndfile filter records what it decodes,
#              so both directions are scored nb
#   capture    tcpdump on lo during sipher 1002 -> sipher 1003 (TLS, PCMU, no --play: silence):
#              with srtp mandatory, >= 100 RTP-shaped packets on the call's ports and none whose
#              payload is clear G.711 silence (only 0xFF/0x7F/0xFE/0xFD bytes); the same call with
#              --media-encryption none must show clear silence (so the check can fail)
#   udp-refused  `sipher call --media-encryption srtp` on a UDP account exits 1 at once saying
#              "not TLS", and no INVITE reaches the wire (capture on port 5060, kamailio log)
#   udp-insecure  with --allow-insecure-sdes the same call over UDP goes through (sipher 1002 ->
#              sipher 1003), and both ends flag it: security event insecure, reason "not TLS"
# A direction passes at PESQ MOS-LQO >= $MIN_MOS (default 3.0). Speech A (sentences 1-3) is sent by
# the caller, speech B (sentences 4-6) by the callee, so an echo of one's own speech cannot score.
# Ports: kamailio 5060/5061, linphonec 1001 SIP 5072 (TLS 5073) and RTP 7088-7091, baresip SIP
# 5074 (TLS 5075) and RTP 7100-7109 (console 5556), sipher ephemeral. Every process runs under
# `timeout`; prints PASS/FAIL lines, a PESQ table and "N passed, M failed"; exit 1 on any failure.
set -u
. "$(dirname "$0")/lib.sh"

SIPHER=${SIPHER:-${CARGO_TARGET_DIR:-$REPO_DIR/target}/debug/sipher}
case $SIPHER in /*) ;; *) SIPHER=$PWD/$SIPHER ;; esac
MIN_MOS=${MIN_MOS:-3.0}
SCORE_PY=$REPO_DIR/scripts/bench/score.py
ALL_TESTS=(linphone baresip capture udp-refused udp-insecure)
TESTS=("$@")
[ ${#TESTS[@]} = 0 ] && TESTS=("${ALL_TESTS[@]}")
# Talk time after connect: the speech (~10.7 s) plus room for setup skew and the jitter buffer.
TALK=13
TABLE=()   # "test|direction|codec|mode|mos|detail" rows for the closing PESQ table
LP_SRTP='Negotiated media encryption is LinphoneMediaEncryptionSRTP'

main() {
  echo "sipher: $SIPHER   RUNDIR: $RUNDIR"
  speech_and_kamailio_up || { summary; exit 1; }
  cd "$RUNDIR" || exit 1
  local t
  for t in "${TESTS[@]}"; do
    case $t in
      linphone) test_sipher_calls_linphone; test_linphone_calls_sipher ;;
      baresip) test_baresip_calls_sipher; test_sipher_calls_baresip ;;
      capture) test_capture srtp; test_capture none ;;
      udp-refused) test_udp_refused ;;
      udp-insecure) test_udp_insecure ;;
      *) fail "unknown test '$t'" "known: ${ALL_TESTS[*]}" ;;
    esac
  done
  print_table
  summary
}

# account FILE USER TRANSPORT ENCRYPTION CODEC: a sipher account file for kamailio on 127.0.0.1
# (TLS: port 5061, kamailio's self-signed certificate as the CA, so the hop is verified) offering
# only CODEC. The codec goes in the account's list because sipher's --codec is ignored when an
# account file is given (its per-network codec list replaces the filtered default list).
account() {
  {
    echo "user = \"$2\""
    echo "password = \"pw$2\""
    echo 'domain = "127.0.0.1"'
    echo "transport = \"$3\""
    if [ "$3" = tls ]; then
      echo 'port = 5061'
      echo "ca_file = \"$KCERT\""
    fi
    echo "media_encryption = \"$4\""
    echo 'expires = 600'
    echo '[codecs]'
    echo "wifi = [\"$5\"]"
  } >"$1"
}

# check_sipher_srtp TEST WHO FILE: sipher's security event says SDES-SRTP over a verified TLS first
# hop (not insecure, badge SRTP) and its media event names the same suite. Sets SUITE.
check_sipher_srtp() {
  local sec media ok=1
  sec=$(json_events "$3" '.event == "security"' | tail -1)
  media=$(json_events "$3" '.event == "media"' | tail -1)
  SUITE=$(jq -r '.suite // empty' <<<"$sec" 2>/dev/null)
  if [ -n "$sec" ] && jq -e '.mode == "srtp-sdes" and .tls_first_hop == true and .insecure == false
      and .badge == "SRTP" and (.suite | type == "string")' <<<"$sec" >/dev/null 2>&1 \
    && [ -n "$media" ] && [ "$(jq -r '.srtp // empty' <<<"$media")" = "$SUITE" ]; then
    ok=0
  fi
  check "$1: $2 reports SDES-SRTP over TLS (security + media events)" $ok \
    "security: ${sec:-none}; media srtp: $(jq -r '.srtp' <<<"${media:-null}" 2>/dev/null)"
}

# score_dir TEST DIRECTION CODEC MODE REFERENCE RECORDING: scores RECORDING against REFERENCE,
# prints a PASS/FAIL line (MOS >= MIN_MOS) and adds a row to the PESQ table (as audio.sh does).
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
  TABLE+=("$test|$dir|$codec ${SUITE:-}|$mode|${mos:-n/a}|$detail")
}

print_table() {
  [ ${#TABLE[@]} -gt 0 ] || return 0
  echo
  echo "PESQ over SRTP (MOS-LQO, pass >= $MIN_MOS):"
  printf '  %-17s %-20s %-30s %-4s %-6s %s\n' test direction "codec suite" mode mos detail
  local row t d c m s x
  for row in "${TABLE[@]}"; do
    IFS='|' read -r t d c m s x <<<"$row"
    printf '  %-17s %-20s %-30s %-4s %-6s %s\n' "$t" "$d" "$c" "$m" "$s" "$x"
  done
  echo
}

# call_ok TEST WHAT RC FILE: the sipher run exited 0 after connected and ended call states.
call_ok() {
  [ "$3" = 0 ] && states_in_order "$4" call connected ended
  check "$1: $2 connected, ended, exit 0" $? "rc=$3 call states: $(event_states "$4" call); $RUNDIR/${4%.out}.{out,err}"
}

# --- linphonec ---------------------------------------------------------------------------------

# check_linphone_srtp TEST LOG: linphonec says it negotiated SRTP, and an a=crypto line of the SDP
# it logged names the suite sipher reported ($SUITE).
check_linphone_srtp() {
  grep -q "$LP_SRTP" "$2" && [ -n "${SUITE:-}" ] && grep -qE "^a=crypto:[0-9]+ $SUITE " "$2"
  check "$1: linphonec reports SRTP, suite ${SUITE:-?} in its SDP" $? \
    "$(grep -o 'Negotiated media encryption is [A-Za-z]*' "$2" | sort -u | paste -sd, -); $2"
}

# sipher 1000 (TLS, srtp) -> kamailio -> linphonec 1001 (TLS, SRTP mandatory, auto-answer, Opus).
test_sipher_calls_linphone() {
  local T=linphone-srtp rc lp=$RUNDIR/lp-srtp name=call-lp-srtp
  SUITE=
  account "$RUNDIR/acc-1000-tls.toml" 1000 tls srtp opus
  LP_RC_EXTRA=$(linphone_codec_sections opus) linphone_start lp-srtp b tls srtp 60 -a
  lp_cmd lp-srtp "play $SPB16"
  if ! linphone_registered lp-srtp 15; then
    fail "$T: call" "linphonec 1001 did not register over TLS: $lp/log"
    linphone_stop lp-srtp
    return 1
  fi
  spawn "$name" 40 "$SIPHER" call sip:1001@127.0.0.1 --account "$RUNDIR/acc-1000-tls.toml" --json \
    --codec opus --play "$SP48" --record "$RUNDIR/$name.wav" --duration $TALK --timeout 15
  finish_pid "$SPAWNED_PID" 35
  rc=$?
  call_ok "$T" "sipher 1000 -> linphonec 1001 over TLS" $rc "$name.out"
  check_sipher_srtp "$T" sipher "$name.out"
  wait_for "$lp/out" 'Call [0-9]+ with .* ended' 5
  linphone_stop lp-srtp
  check_linphone_srtp "$T" "$lp/log"
  score_dir "$T" "sipher -> linphonec" opus wb "$SP48" "$lp/rec.wav"
  score_dir "$T" "linphonec -> sipher" opus wb "$SPB16" "$RUNDIR/$name.wav"
}

# linphonec 1001 (TLS, SRTP mandatory, PCMU) -> kamailio -> `sipher answer` 1000 (TLS, srtp).
test_linphone_calls_sipher() {
  local T=linphone-srtp-rev pid rc lp=$RUNDIR/lp-srtp-rev name=answer-lp-srtp
  SUITE=
  account "$RUNDIR/acc-1000-tls.toml" 1000 tls srtp pcmu
  spawn "$name" 60 "$SIPHER" answer --account "$RUNDIR/acc-1000-tls.toml" --json --max-calls 1 \
    --codec pcmu --play "$SPB8" --record "$RUNDIR/$name.wav" --duration $TALK
  pid=$SPAWNED_PID
  LP_RC_EXTRA=$(linphone_codec_sections PCMU) linphone_start lp-srtp-rev b tls srtp 60
  lp_cmd lp-srtp-rev "play $SP8"
  if ! wait_event "$name.out" '.event == "registration" and .state == "registered"' 10 \
    || ! linphone_registered lp-srtp-rev 15; then
    fail "$T: call" "registration over TLS failed: $RUNDIR/$name.{out,err} $lp/log"
    linphone_stop lp-srtp-rev
    stop_pid "$pid"
    return 1
  fi
  lp_cmd lp-srtp-rev "call sip:1000@127.0.0.1"
  finish_pid "$pid" $((TALK + 20))
  rc=$?
  call_ok "$T" "linphonec 1001 -> sipher 1000 over TLS" $rc "$name.out"
  check_sipher_srtp "$T" sipher "$name.out"
  wait_for "$lp/out" 'Call [0-9]+ with .* ended' 5
  linphone_stop lp-srtp-rev
  check_linphone_srtp "$T" "$lp/log"
  score_dir "$T" "linphonec -> sipher" pcmu nb "$SP8" "$RUNDIR/$name.wav"
  score_dir "$T" "sipher -> linphonec" pcmu nb "$SPB8" "$lp/rec.wav"
}

# --- baresip -----------------------------------------------------------------------------------

# baresip_start NAME ANSWERMODE SOURCE-WAV [baresip args...]: baresip 1002 registered over TLS
# (sip_cafile = kamailio's certificate) with mediaenc=srtp-mand and PCMU only; the sndfile filter
# writes what baresip decodes to $RUNDIR/NAME/dump-*-dec.wav. Sets BS_PID.
baresip_start() {
  local name=$1 mode=$2 src=$3 d=$RUNDIR/$1
  shift 3
  rm -rf "$d"
  mkdir -p "$d"
  cat >"$d/config" <<CFG
poll_method		epoll
sip_listen		127.0.0.1:5074
sip_trans_def		tls
sip_cafile		$KCERT
net_interface		127.0.0.1
call_local_timeout	120
call_max_calls		4
audio_player		aubridge,bs
audio_source		aufile,$src
audio_alert		aubridge,bs
ausrc_srate		8000
auplay_srate		8000
ausrc_channels		1
auplay_channels		1
rtp_tos			0
rtp_ports		7100-7109
rtp_stats		yes
snd_path		$d
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			sndfile.so
module			srtp.so
module			cons.so
module_app		account.so
module_app		menu.so
cons_listen		127.0.0.1:5556
CFG
  echo "<sip:1002@127.0.0.1;transport=tls>;auth_pass=pw1002;regint=600;outbound=\"sip:127.0.0.1:5061;transport=tls\";audio_codecs=PCMU;mediaenc=srtp-mand;answermode=$mode" \
    >"$d/accounts"
  : >"$d/contacts"
  spawn "$name" 50 env HOME="$d" baresip -4 -v -f "$d" "$@"
  BS_PID=$SPAWNED_PID
}
# baresip_log NAME: baresip's console output with its carriage returns as line ends.
baresip_log() { tr '\r' '\n' <"$RUNDIR/$1.out"; }
# baresip_dump NAME: the WAV the sndfile filter wrote of what baresip decoded (empty if none).
baresip_dump() { ls "$RUNDIR/$1"/dump-*-dec.wav 2>/dev/null | head -1; }

# check_baresip_srtp TEST NAME: baresip established the call with SRTP on the suite sipher reported
# ($SUITE, set by check_sipher_srtp): its srtp module logs "mediaenc event 'Secure' (audio,SUITE)".
check_baresip_srtp() {
  local log got
  log=$(baresip_log "$2")
  got=$(grep -oE "mediaenc event 'Secure' \(audio,[A-Z0-9_]+\)" <<<"$log" | head -1)
  grep -q 'Call established' <<<"$log" && [ -n "${SUITE:-}" ] \
    && [ "$got" = "mediaenc event 'Secure' (audio,$SUITE)" ]
  check "$1: baresip reports the call established with SRTP, suite ${SUITE:-?}" $? \
    "$(grep -E 'Call established|SRTP is Enabled' <<<"$log" | head -2 | paste -sd'|' -)|${got:-no Secure event}; $RUNDIR/$2.out"
}

# baresip 1002 (TLS, srtp-mand, PCMU, aufile speech A) -> kamailio -> `sipher answer` 1003 (speech B).
test_baresip_calls_sipher() {
  local T=baresip-srtp pid rc name=answer-bs-srtp
  SUITE=
  account "$RUNDIR/acc-1003-tls.toml" 1003 tls srtp pcmu
  spawn "$name" 60 "$SIPHER" answer --account "$RUNDIR/acc-1003-tls.toml" --json --max-calls 1 \
    --codec pcmu --play "$SPB8" --record "$RUNDIR/$name.wav" --duration $TALK
  pid=$SPAWNED_PID
  if ! wait_event "$name.out" '.event == "registration" and .state == "registered"' 10; then
    fail "$T: call" "sipher 1003 did not register over TLS: $RUNDIR/$name.{out,err}"
    stop_pid "$pid"
    return 1
  fi
  # -t: baresip quits by itself after the talk time (sipher hangs up first)
  baresip_start bs-srtp manual "$SP8" -t $((TALK + 12)) -e "/dial sip:1003@127.0.0.1"
  finish_pid "$pid" $((TALK + 25))
  rc=$?
  call_ok "$T" "baresip 1002 -> sipher 1003 over TLS" $rc "$name.out"
  check_sipher_srtp "$T" sipher "$name.out"
  check_baresip_srtp "$T" bs-srtp
  stop_pid "$BS_PID"
  score_dir "$T" "baresip -> sipher" pcmu nb "$SP8" "$RUNDIR/$name.wav"
  score_dir "$T" "sipher -> baresip" pcmu nb "$SPB8" "$(baresip_dump bs-srtp)"
}

# sipher 1003 (TLS, srtp, speech A) -> kamailio -> baresip 1002 (auto-answer, speech B).
test_sipher_calls_baresip() {
  local T=baresip-srtp-rev rc name=call-bs-srtp
  SUITE=
  account "$RUNDIR/acc-1003-tls.toml" 1003 tls srtp pcmu
  baresip_start bs-srtp-rev auto "$SPB8" -t $((TALK + 25))
  if ! wait_for "$RUNDIR/bs-srtp-rev.out" 'registered successfully|200 OK' 10; then
    fail "$T: call" "baresip 1002 did not register over TLS: $RUNDIR/bs-srtp-rev.out"
    stop_pid "$BS_PID"
    return 1
  fi
  spawn "$name" 40 "$SIPHER" call sip:1002@127.0.0.1 --account "$RUNDIR/acc-1003-tls.toml" --json \
    --codec pcmu --play "$SP8" --record "$RUNDIR/$name.wav" --duration $TALK --timeout 15
  finish_pid "$SPAWNED_PID" 35
  rc=$?
  call_ok "$T" "sipher 1003 -> baresip 1002 over TLS" $rc "$name.out"
  check_sipher_srtp "$T" sipher "$name.out"
  check_baresip_srtp "$T" bs-srtp-rev
  stop_pid "$BS_PID"
  score_dir "$T" "sipher -> baresip" pcmu nb "$SP8" "$(baresip_dump bs-srtp-rev)"
  score_dir "$T" "baresip -> sipher" pcmu nb "$SPB8" "$RUNDIR/$name.wav"
}

# --- capture -----------------------------------------------------------------------------------

# pcap_scan PCAP MODE [PORT...]: a stdlib reader of tcpdump's classic pcap (Ethernet or Linux
# cooked headers, IPv4 UDP). MODE rtp: prints one JSON line about the UDP packets from or to one
# of PORTs: "rtp" (V=2, not an RTCP type 72..76, >= 12 bytes after the header), "clear_silence"
# (those whose payload is only G.711 silence bytes 0xFF/0x7F/0xFE/0xFD, which no SRTP cipher text
# of 160+ bytes would be), "rtcp" and the payload types seen. MODE invites: prints how many UDP
# payloads start with "INVITE " and how many with "REGISTER " (the control: the capture worked).
pcap_scan() {
  python3 - "$@" <<'PY'
import json, struct, sys

def packets(path):
    with open(path, 'rb') as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return
        magic = struct.unpack('<I', hdr[:4])[0]
        endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        linktype = struct.unpack(endian + 'I', hdr[20:24])[0]
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            incl = struct.unpack(endian + 'IIII', ph)[2]
            data = f.read(incl)
            if len(data) < incl:
                return
            yield linktype, data

def udp(linktype, pkt):
    if linktype == 1:            # Ethernet: what tcpdump gives for -i lo
        if pkt[12:14] != b'\x08\x00':
            return None
        ip = pkt[14:]
    elif linktype == 113:        # Linux cooked (-i any)
        ip = pkt[16:]
    else:
        return None
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
        return None
    u = ip[(ip[0] & 15) * 4:]
    if len(u) < 8:
        return None
    sp, dp = struct.unpack('!HH', u[:4])
    return sp, dp, u[8:]

path, mode, ports = sys.argv[1], sys.argv[2], {int(p) for p in sys.argv[3:]}
SILENCE = set(b'\xff\x7f\xfe\xfd')
rtp = clear = rtcp = invites = registers = 0
pts = {}
for lt, pkt in packets(path):
    u = udp(lt, pkt)
    if u is None:
        continue
    sp, dp, pl = u
    if mode == 'invites':
        invites += pl.startswith(b'INVITE ')
        registers += pl.startswith(b'REGISTER ')
        continue
    if sp not in ports and dp not in ports:
        continue
    if len(pl) < 12 or pl[0] >> 6 != 2:
        continue
    pt = pl[1] & 0x7f
    if 72 <= pt <= 76:
        rtcp += 1
        continue
    off = 12 + 4 * (pl[0] & 15)
    if pl[0] & 0x10 and len(pl) >= off + 4:       # header extension
        off += 4 + 4 * struct.unpack('!H', pl[off + 2:off + 4])[0]
    body = pl[off:]
    if len(body) == 0:
        continue
    rtp += 1
    pts[pt] = pts.get(pt, 0) + 1
    if set(body) <= SILENCE:
        clear += 1
if mode == 'invites':
    print(invites, registers)
else:
    print(json.dumps({'rtp': rtp, 'clear_silence': clear, 'rtcp': rtcp,
                      'payload_types': {str(k): v for k, v in sorted(pts.items())}}))
PY
}

# capture_start NAME FILTER: tcpdump on lo into $RUNDIR/NAME.pcap, once it is listening.
# --immediate-mode: without it the kernel hands packets over in blocks (up to 1 s late), and a
# capture stopped right after a short exchange holds none of them.
capture_start() {
  spawn "$1" 60 tcpdump -i lo -n -U --immediate-mode -s 0 -w "$RUNDIR/$1.pcap" "$2"
  CAP_PID=$SPAWNED_PID
  wait_for "$RUNDIR/$1.err" 'listening on' 5
}

# test_capture none|srtp: sipher 1002 -> sipher 1003 over TLS, PCMU, nobody plays anything, with
# tcpdump on lo; the call's RTP ports come from the media events (each side's remote_rtp).
test_capture() {
  local enc=$1 T=capture-$1 apid cpid arc crc callee=answer-cap-$1 caller=call-cap-$1 p1 p2 js n c
  account "$RUNDIR/acc-1003-cap.toml" 1003 tls "$enc" pcmu
  account "$RUNDIR/acc-1002-cap.toml" 1002 tls "$enc" pcmu
  if ! capture_start "tcpdump-$enc" 'udp and not port 5060 and not port 5061'; then
    fail "$T: tcpdump listens on lo" "$(head -c 300 "$RUNDIR/tcpdump-$enc.err")"
    stop_pid "$CAP_PID"
    return 1
  fi
  spawn "$callee" 40 "$SIPHER" answer --account "$RUNDIR/acc-1003-cap.toml" --json --max-calls 1 \
    --codec pcmu --duration 6
  apid=$SPAWNED_PID
  if ! wait_event "$callee.out" '.event == "registration" and .state == "registered"' 10; then
    fail "$T: call" "callee did not register over TLS: $RUNDIR/$callee.{out,err}"
    stop_pid "$apid"
    stop_pid "$CAP_PID"
    return 1
  fi
  spawn "$caller" 30 "$SIPHER" call sip:1003@127.0.0.1 --account "$RUNDIR/acc-1002-cap.toml" --json \
    --codec pcmu --duration 6 --timeout 15
  cpid=$SPAWNED_PID
  finish_pid "$cpid" 25
  crc=$?
  finish_pid "$apid" 10
  arc=$?
  sleep 0.3
  stop_pid "$CAP_PID"
  [ $crc = 0 ] && [ $arc = 0 ] && states_in_order "$caller.out" call connected ended \
    && states_in_order "$callee.out" call connected ended
  check "$T: sipher 1002 -> sipher 1003 (PCMU, silence, media encryption $enc) connected, ended" $? \
    "rc=$crc/$arc caller: $(event_states "$caller.out" call); callee: $(event_states "$callee.out" call)"
  [ "$enc" = srtp ] && check_sipher_srtp "$T" "caller" "$caller.out" && check_sipher_srtp "$T" "callee" "$callee.out"
  p1=$(json_events "$caller.out" '.event == "media"' | jq -r '.remote_rtp' | tail -1)
  p2=$(json_events "$callee.out" '.event == "media"' | jq -r '.remote_rtp' | tail -1)
  p1=${p1##*:}
  p2=${p2##*:}
  if [ -z "$p1" ] || [ -z "$p2" ]; then
    fail "$T: RTP ports known" "no media events: $RUNDIR/$caller.out $RUNDIR/$callee.out"
    return 1
  fi
  js=$(pcap_scan "$RUNDIR/tcpdump-$enc.pcap" rtp "$p1" "$p2" $((p1 + 1)) $((p2 + 1)) 2>"$RUNDIR/pcap-$enc.err")
  n=$(jq -r '.rtp // 0' <<<"$js" 2>/dev/null)
  c=$(jq -r '.clear_silence // 0' <<<"$js" 2>/dev/null)
  [ "${n:-0}" -ge 100 ]
  check "$T: >= 100 RTP-shaped packets captured on the call's ports $p1/$p2" $? \
    "${js:-pcap reader failed: $(head -c 300 "$RUNDIR/pcap-$enc.err")}; $RUNDIR/tcpdump-$enc.pcap"
  if [ "$enc" = srtp ]; then
    [ "${n:-0}" -gt 0 ] && [ "$c" = 0 ]
    check "$T: zero clear RTP (no payload of G.711 silence bytes)" $? "$c of $n packets clear"
  else
    [ "${n:-0}" -gt 0 ] && [ "$c" -ge $((n * 9 / 10)) ]
    check "$T: the check sees clear silence without SRTP (>= 90% of packets)" $? "$c of $n packets clear"
  fi
}

# --- SDES over UDP -----------------------------------------------------------------------------

# `sipher call --media-encryption srtp` on a UDP account: exit 1 within 5 s with a "not TLS"
# message, and no INVITE on the wire (tcpdump on port 5060) nor in kamailio's log.
test_udp_refused() {
  local T=udp-refused name=call-udp-srtp rc t0 took mark inv reg out
  account "$RUNDIR/acc-1000-udp.toml" 1000 udp none pcmu
  if ! capture_start tcpdump-udp 'udp port 5060'; then
    fail "$T: tcpdump listens on lo" "$(head -c 300 "$RUNDIR/tcpdump-udp.err")"
    stop_pid "$CAP_PID"
    return 1
  fi
  mark=$(klog_mark)
  t0=$(now_ms)
  spawn "$name" 20 "$SIPHER" call sip:1001@127.0.0.1 --account "$RUNDIR/acc-1000-udp.toml" --json \
    --media-encryption srtp --codec pcmu --duration 3 --timeout 10
  finish_pid "$SPAWNED_PID" 15
  rc=$?
  took=$(($(now_ms) - t0))
  sleep 0.5
  stop_pid "$CAP_PID"
  out=$(cat "$name.out" "$name.err" 2>/dev/null)
  [ $rc = 1 ] && [ $took -lt 5000 ]
  check "$T: sipher call --media-encryption srtp over UDP exits 1 at once" $? "rc=$rc after ${took} ms"
  grep -q 'not TLS' <<<"$out"
  check "$T: it says why (\"not TLS\")" $? "$(grep -m1 'not TLS' <<<"$out" | head -c 300)"
  # sipher registers (and un-registers) before it refuses the call: those REGISTERs show that the
  # capture did see its signalling
  read -r inv reg < <(pcap_scan "$RUNDIR/tcpdump-udp.pcap" invites 2>&1)
  [ "$inv" = 0 ] && [ "${reg:-0}" -ge 1 ] && ! klog_since "$mark" | grep -q 'REQ INVITE .*(fU=1000)'
  check "$T: no INVITE sent (capture on port 5060, kamailio log)" $? \
    "captured: $inv INVITEs, ${reg:-?} REGISTERs; kamailio: $(klog_since "$mark" | grep -c 'REQ INVITE') INVITE lines"
}

# sipher 1002 -> sipher 1003 over UDP, both with --media-encryption srtp --allow-insecure-sdes: the
# call has SRTP, and both ends report it insecure because the keys crossed clear signalling.
test_udp_insecure() {
  local T=udp-insecure apid cpid arc crc callee=answer-udp-insecure caller=call-udp-insecure f ok sec
  account "$RUNDIR/acc-1003-udp.toml" 1003 udp none pcmu
  account "$RUNDIR/acc-1002-udp.toml" 1002 udp none pcmu
  spawn "$callee" 30 "$SIPHER" answer --account "$RUNDIR/acc-1003-udp.toml" --json --max-calls 1 \
    --media-encryption srtp --allow-insecure-sdes --duration 2
  apid=$SPAWNED_PID
  if ! wait_event "$callee.out" '.event == "registration" and .state == "registered"' 10; then
    fail "$T: call" "callee did not register: $RUNDIR/$callee.{out,err}"
    stop_pid "$apid"
    return 1
  fi
  spawn "$caller" 25 "$SIPHER" call sip:1003@127.0.0.1 --account "$RUNDIR/acc-1002-udp.toml" --json \
    --media-encryption srtp --allow-insecure-sdes --duration 2 --timeout 10
  cpid=$SPAWNED_PID
  finish_pid "$cpid" 20
  crc=$?
  finish_pid "$apid" 10
  arc=$?
  [ $crc = 0 ] && [ $arc = 0 ] && states_in_order "$caller.out" call connected ended \
    && states_in_order "$callee.out" call connected ended
  check "$T: sipher 1002 -> sipher 1003 over UDP with --allow-insecure-sdes connected, ended" $? \
    "rc=$crc/$arc caller: $(event_states "$caller.out" call); callee: $(event_states "$callee.out" call)"
  for f in "$caller" "$callee"; do
    sec=$(json_events "$f.out" '.event == "security"' | tail -1)
    jq -e '.mode == "srtp-sdes" and .tls_first_hop == false and .insecure == true
      and (.reason // "" | test("not TLS"))' <<<"${sec:-null}" >/dev/null 2>&1
    ok=$?
    check "$T: ${f%%-*}er reports SRTP but insecure (SDES over clear signalling)" $ok "security: ${sec:-none}"
  done
}

main
