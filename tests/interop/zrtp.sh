#!/bin/bash
# ZRTP between sipher and linphonec (bzrtp) through kamailio on 127.0.0.1.
#   SIPHER=path/to/sipher tests/interop/zrtp.sh [TEST...]
# Tests (all by default; name some to run only those):
#   out    sipher 1000 calls linphonec 1001 (default suite): same SAS, DH3k, media over SRTP
#   in     linphonec 1001 calls `sipher answer` 1000: same SAS
#   full   linphonec's full suite (X255, AES3, S384, B256): all but the SAS type negotiated
#   audio  sipher 1000 calls linphonec 1001 (Opus, ZRTP mandatory): speech both ways scored with
#          PESQ wb (scripts/bench/score.py) >= $MIN_MOS (default 3.0); a control first shows that
#          the scorer fails white noise and silence against the same speech
#   b256   linphonec (SAS types B256, B32) calls `sipher answer`: as the Initiator it picks B256,
#          and sipher must show the same two PGP words. Made deterministic in a private network
#          namespace (root; see call_b256), else up to $B256_TRIES calls through kamailio
#   direct sipher (--zrtp-sas b256) calls linphonec (full suite) directly, no kamailio: the same
#          two PGP words on both sides, X255/AES-256/S384
#   cache  sipher 1000 (--data-dir) calls linphonec 1001 (its HOME, with .linphone-zidcache,
#          kept) three times: "new", then "match", then after sipher's secrets are wiped "new"
#          again with the same SAS on both sides (see cache_linphone). Then sipher -> sipher directly (answer on 5097), each with its
#          own --data-dir: new/new, match/match (+ --confirm-sas), match+verified on both; the
#          caller's secrets wiped (ZID kept): caller "new", answerer "mismatch" and not verified
# Every process runs under `timeout`; PASS/FAIL lines and "N passed, M failed"; exit 1 on failure.
set -u
. "$(dirname "$0")/lib.sh"

SIPHER=${SIPHER:-${CARGO_TARGET_DIR:-$REPO_DIR/target}/debug/sipher}
case $SIPHER in /*) ;; *) SIPHER=$PWD/$SIPHER ;; esac
MIN_MOS=${MIN_MOS:-3.0}
B256_TRIES=${B256_TRIES:-8}
SCORE_PY=$REPO_DIR/scripts/bench/score.py
ALL_TESTS=(out in full audio b256 direct cache)
TESTS=("$@")
[ ${#TESTS[@]} = 0 ] && TESTS=("${ALL_TESTS[@]}")
# Talk time after connect for the audio test: the speech (~10.7 s) plus room for the ZRTP
# exchange and the jitter buffer.
TALK=13
TABLE=()   # "direction|mos|detail" rows for the closing PESQ table

FULL_SUITE='[sip]
zrtp_key_agreements_suites=MS_ZRTP_KEY_AGREEMENT_X255,MS_ZRTP_KEY_AGREEMENT_DH3K
zrtp_cipher_suites=MS_ZRTP_CIPHER_AES3,MS_ZRTP_CIPHER_AES1
zrtp_hash_suites=MS_ZRTP_HASH_S384,MS_ZRTP_HASH_S256
zrtp_auth_suites=MS_ZRTP_AUTHTAG_HS80,MS_ZRTP_AUTHTAG_HS32
zrtp_sas_suites=MS_ZRTP_SAS_B256,MS_ZRTP_SAS_B32'
B256_SUITE='[sip]
zrtp_sas_suites=MS_ZRTP_SAS_B256,MS_ZRTP_SAS_B32'

account() { # FILE USER [CODEC]
  cat >"$1" <<EOF
user = "$2"
password = "pw$2"
domain = "127.0.0.1"
transport = "udp"
media_encryption = "zrtp"
EOF
  # The codec goes in the account's list: --codec is ignored when an account file is given.
  if [ -n "${3:-}" ]; then printf '[codecs]\nwifi = ["%s"]\n' "$3" >>"$1"; fi
}

# lp_sas NAME: the SAS linphonec printed ("... auth token is X.").
lp_sas() { grep -oE 'auth token is [^ ]+' "$RUNDIR/$1/out" 2>/dev/null | tail -1 | awk '{print $4}' | sed 's/\.$//'; }
# sipher_sas FILE: the SAS of sipher's security event.
sipher_sas() { json_events "$1" '.event == "security" and .mode == "zrtp"' | jq -r '.sas' | tail -1; }

# call_out NAME EXTRA_RC EXPECT_REGEX: sipher 1000 calls linphonec 1001.
call_out() {
  local name=$1 extra=$2 expect=$3
  LP_RC_EXTRA=$extra linphone_start "lp-$name" b udp zrtp 45 -a
  if ! linphone_registered "lp-$name" 15; then fail "$name: linphonec registered"; linphone_stop "lp-$name"; return; fi
  account "$RUNDIR/$name.toml" 1000
  spawn "$name" 40 "$SIPHER" call sip:1001@127.0.0.1 --account "$RUNDIR/$name.toml" --json \
    --duration 4 --record "$RUNDIR/$name.wav"
  local pid=$SPAWNED_PID
  finish_pid "$pid" 35
  local rc=$?
  wait_for "$RUNDIR/lp-$name/out" 'auth token is' 3
  local a b
  a=$(sipher_sas "$RUNDIR/$name.out"); b=$(lp_sas "lp-$name")
  check "$name: call connected and ended, exit 0" "$rc" "rc=$rc"
  [ -n "$a" ] && [ "$a" = "$b" ]
  check "$name: sipher and linphonec show the same SAS" $? "sipher '$a', linphonec '$b'"
  if [ -n "$expect" ]; then
    json_events "$RUNDIR/$name.out" '.event == "security" and .mode == "zrtp"' | grep -qE "$expect"
    check "$name: negotiated $expect" $? "$(json_events "$RUNDIR/$name.out" '.event == "security"' | tail -1)"
  fi
  has_event "$RUNDIR/$name.out" '.event == "quality" and .packets_received > 50'
  check "$name: sipher received media from linphonec over SRTP" $? \
    "$(json_events "$RUNDIR/$name.out" '.event == "quality"' | tail -1 | cut -c1-160)"
  linphone_stop "lp-$name"
}

# call_in: linphonec 1001 calls sipher 1000.
call_in() {
  account "$RUNDIR/in.toml" 1000
  spawn in 45 "$SIPHER" answer --account "$RUNDIR/in.toml" --json --max-calls 1 --duration 4
  local pid=$SPAWNED_PID
  if ! wait_event "$RUNDIR/in.out" '.event == "registration" and .state == "registered"' 15; then
    fail "in: sipher registered"; stop_pid "$pid"; return
  fi
  linphone_start lp-in b udp zrtp 45
  if ! linphone_registered lp-in 15; then fail "in: linphonec registered"; linphone_stop lp-in; return; fi
  lp_cmd lp-in "call sip:1000@127.0.0.1"
  finish_pid "$pid" 30
  local rc=$?
  local a b
  a=$(sipher_sas "$RUNDIR/in.out"); b=$(lp_sas lp-in)
  check "in: linphonec -> sipher connected, ended, exit 0" "$rc" "rc=$rc"
  [ -n "$a" ] && [ "$a" = "$b" ]
  check "in: sipher and linphonec show the same SAS" $? "sipher '$a', linphonec '$b'"
  linphone_stop lp-in
}

# --- audio: speech both ways over ZRTP-keyed SRTP, scored with PESQ ----------------------------

# pesq_json REFERENCE RECORDING MODE: score.py's JSON line (an error object if it cannot score).
pesq_json() {
  local js=
  [ -s "$2" ] && js=$(python3 "$SCORE_PY" "$1" "$2" --mode "$3" --json 2>"$2.score.err" | tail -1)
  jq -e . <<<"$js" >/dev/null 2>&1 || js='{"mos": null, "error": "score.py could not score it"}'
  echo "$js"
}
# mos_at_least MOS: 0 if MOS is a number >= MIN_MOS.
mos_at_least() { [ -n "$1" ] && python3 -c "import sys; sys.exit(0 if $1 >= $MIN_MOS else 1)"; }

# score_control: the threshold tells speech from non-speech. White noise and silence as long as
# speech B must score below MIN_MOS against it (or not score at all), so a call that carried
# nothing but noise or silence could not pass.
score_control() {
  local kind mos
  for kind in whitenoise silence; do
    if [ $kind = silence ]; then
      sox -D -n -r 16000 -c 1 -b 16 "$RUNDIR/control-$kind.wav" trim 0 10 2>>"$RUNDIR/speech.txt"
    else
      sox -D -n -r 16000 -c 1 -b 16 "$RUNDIR/control-$kind.wav" synth 10 whitenoise vol 0.3 \
        2>>"$RUNDIR/speech.txt"
    fi
    mos=$(pesq_json "$SPB16" "$RUNDIR/control-$kind.wav" wb | jq -r '.mos // empty')
    ! mos_at_least "$mos" && [ -s "$RUNDIR/control-$kind.wav" ]
    check "audio control: $kind scores below $MIN_MOS against the speech" $? "MOS-LQO ${mos:-none}"
  done
}

# score_dir DIRECTION REFERENCE RECORDING: PASS/FAIL on MOS-LQO >= MIN_MOS, and a table row.
score_dir() {
  local js mos detail
  js=$(pesq_json "$2" "$3" wb)
  echo "$js" >"$3.score.json"
  mos=$(jq -r '.mos // empty' <<<"$js")
  detail=$(jq -r 'if .mos then "offset \(.offset_ms) ms, corr \(.corr), level \(.level_db) dB"
                  else (.error // "score.py failed") end' <<<"$js")
  mos_at_least "$mos"
  check "audio: $1 speech over ZRTP/SRTP PESQ-wb >= $MIN_MOS" $? "MOS-LQO ${mos:-n/a}; $detail; $3"
  TABLE+=("$1|${mos:-n/a}|$detail")
}

print_table() {
  [ ${#TABLE[@]} -gt 0 ] || return 0
  echo
  echo "PESQ over ZRTP-keyed SRTP, Opus (MOS-LQO wb, pass >= $MIN_MOS):"
  local row d m x
  for row in "${TABLE[@]}"; do
    IFS='|' read -r d m x <<<"$row"
    printf '  %-22s %-6s %s\n' "$d" "$m" "$x"
  done
  echo
}

# call_audio: sipher 1000 (Opus, plays speech A) -> linphonec 1001 (auto-answer, plays speech B);
# each records the other. Both must be secured by ZRTP with one SAS before the speech counts.
call_audio() {
  local name=audio lp=$RUNDIR/lp-audio rc a b
  account "$RUNDIR/$name.toml" 1000 opus
  LP_RC_EXTRA=$(linphone_codec_sections opus) linphone_start lp-audio b udp zrtp 60 -a
  lp_cmd lp-audio "play $SPB16"
  if ! linphone_registered lp-audio 15; then fail "audio: linphonec registered"; linphone_stop lp-audio; return; fi
  spawn "$name" 45 "$SIPHER" call sip:1001@127.0.0.1 --account "$RUNDIR/$name.toml" --json \
    --play "$SP48" --record "$RUNDIR/$name.wav" --duration $TALK --timeout 15
  finish_pid "$SPAWNED_PID" 40
  rc=$?
  wait_for "$lp/out" 'Call [0-9]+ with .* ended' 5
  linphone_stop lp-audio
  a=$(sipher_sas "$RUNDIR/$name.out"); b=$(lp_sas lp-audio)
  [ "$rc" = 0 ] && [ -n "$a" ] && [ "$a" = "$b" ]
  check "audio: Opus call secured by ZRTP, same SAS, exit 0" $? "rc=$rc; sipher '$a', linphonec '$b'"
  score_dir "sipher -> linphonec" "$SP48" "$lp/rec.wav"
  score_dir "linphonec -> sipher" "$SPB16" "$RUNDIR/$name.wav"
}

# --- b256: PGP-word SAS chosen by linphonec ----------------------------------------------------
# Sipher prefers B32, and the Initiator (the side whose Commit wins) picks the SAS type: linphonec
# must be the Initiator to pick B256. Sipher usually commits first (bzrtp works on a 10 ms tick),
# so with root the call runs directly in a private network namespace whose loopback drops every
# HelloACK except those to linphonec: sipher then never sees a HelloACK and takes linphonec's
# Commit as the implicit one (RFC 6189 §4.1), so linphonec initiates every time. Without root it
# falls back to calls through kamailio, up to $B256_TRIES, until linphonec wins a contention.

call_b256() {
  local ns=sipher-b256-$$
  if [ "$(id -u)" = 0 ] && ip netns add "$ns" 2>/dev/null; then
    # lib.sh's EXIT trap stops the processes; the namespace goes with it if the script is cut short.
    trap "ip netns del $ns 2>/dev/null; cleanup" EXIT
    b256_netns "$ns"
    ip netns del "$ns" 2>/dev/null
    trap cleanup EXIT
  else
    b256_retries
  fi
}

# b256_check HOW SIPHER-SAS LINPHONEC-SAS: B256 renders as two PGP words ("word:word", the even
# word then the odd one; some are capitalised, e.g. "December"), equal on both sides.
b256_check() {
  [[ $3 =~ ^[A-Za-z]+:[A-Za-z]+$ ]] && [ "$2" = "$3" ]
  check "b256: linphonec chose B256 and sipher shows the same two PGP words ($1)" $? \
    "sipher '$2', linphonec '$3'"
}

# b256_netns NS: `sipher answer` (127.0.0.1:5097) and linphonec (scripts/bench's direct-call rc,
# SIP 5072, RTP 7088, B256 first) in namespace NS; linphonec calls sipher directly.
b256_netns() {
  local ns=$1 d=$RUNDIR/lp-b256 pid lp fd a b
  ip netns exec "$ns" ip link set lo up
  if ! ip netns exec "$ns" iptables -A INPUT -p udp ! --dport 7088 -m string --string HelloACK \
    --algo bm -j DROP 2>"$RUNDIR/b256-iptables.err"; then
    echo "NOTE b256: no iptables string match ($(head -c 120 "$RUNDIR/b256-iptables.err")), trying contention"
    b256_retries
    return
  fi
  spawn b256 40 ip netns exec "$ns" "$SIPHER" answer --bind 127.0.0.1:5097 --media-encryption zrtp \
    --max-calls 1 --duration 3 --json
  pid=$SPAWNED_PID
  rm -rf "$d"
  mkdir -p "$d/.local/share/linphone"
  { sed -e 's/^media_encryption=.*/media_encryption=zrtp/' \
      -e 's/^media_encryption_mandatory=.*/media_encryption_mandatory=1/' \
      "$REPO_DIR/scripts/bench/linphone/linphone-b.rc"
    printf '%s\n' "$B256_SUITE"; } >"$d/rc"
  mkfifo "$d/in"
  exec {fd}<>"$d/in"
  HOME=$d timeout -k 2 40 ip netns exec "$ns" linphonec -c "$d/rc" -d 6 -l "$d/log" <"$d/in" \
    >"$d/out" 2>&1 &
  lp=$!
  PIDS+=("$lp")
  echo "soundcard use files" >&$fd
  if ! wait_event "$RUNDIR/b256.out" '.event == "listening"' 10 \
    || ! wait_for "$d/log" 'reachability state is now \[UP\]' 15; then
    fail "b256: sipher and linphonec up in the namespace" "$RUNDIR/b256.{out,err} $d/log"
  else
    echo "call sip:sipher@127.0.0.1:5097" >&$fd
    finish_pid "$pid" 30
    wait_for "$d/out" 'auth token is' 3
  fi
  echo quit >&$fd
  wait_pid "$lp" 5 >/dev/null 2>&1
  [ $? = 255 ] && stop_pid "$lp"
  stop_pid "$pid"
  exec {fd}>&-
  a=$(sipher_sas "$RUNDIR/b256.out"); b=$(lp_sas lp-b256)
  b256_check "HelloACKs to sipher dropped, linphonec initiates" "$a" "$b"
}

# b256_retries: linphonec 1001 (B256 first) calls `sipher answer` 1000 through kamailio, up to
# B256_TRIES times until a call negotiates B256; every call must show equal SAS.
b256_retries() {
  local try name pid a b all_equal=0 got= seen=()
  account "$RUNDIR/b256.toml" 1000
  for try in $(seq 1 "$B256_TRIES"); do
    name=b256-$try
    spawn "$name" 40 "$SIPHER" answer --account "$RUNDIR/b256.toml" --json --max-calls 1 --duration 3
    pid=$SPAWNED_PID
    if ! wait_event "$RUNDIR/$name.out" '.event == "registration" and .state == "registered"' 15; then
      fail "b256: sipher registered"; stop_pid "$pid"; return
    fi
    LP_RC_EXTRA=$B256_SUITE linphone_start "lp-$name" b udp zrtp 40
    if ! linphone_registered "lp-$name" 15; then
      fail "b256: linphonec registered"; linphone_stop "lp-$name"; stop_pid "$pid"; return
    fi
    lp_cmd "lp-$name" "call sip:1000@127.0.0.1"
    finish_pid "$pid" 30
    wait_for "$RUNDIR/lp-$name/out" 'auth token is' 3
    linphone_stop "lp-$name"
    a=$(sipher_sas "$RUNDIR/$name.out"); b=$(lp_sas "lp-$name")
    seen+=("'$a'/'$b'")
    { [ -n "$a" ] && [ "$a" = "$b" ]; } || all_equal=1
    if [[ $b =~ : ]]; then got=$try; break; fi
  done
  check "b256: every call shows the same SAS on both sides" $all_equal "sipher/linphonec: ${seen[*]}"
  b256_check "call ${got:-none} of ${#seen[@]} through kamailio" "$a" "$b"
}

# call_direct: sipher calls linphonec directly, no server (linphonec: scripts/bench's direct-call
# rc, SIP 5072, RTP 7088, full suite, auto-answer); sipher prefers B256, so as the Initiator or
# as the Responder to linphonec's B256-first Commit the SAS is two PGP words, equal on both sides.
call_direct() {
  local d=$RUNDIR/lp-direct fd lp a b sec
  rm -rf "$d"
  mkdir -p "$d/.local/share/linphone"
  { sed -e 's/^media_encryption=.*/media_encryption=zrtp/' \
      -e 's/^media_encryption_mandatory=.*/media_encryption_mandatory=1/' \
      "$REPO_DIR/scripts/bench/linphone/linphone-b.rc"
    printf '%s\n' "$FULL_SUITE"; } >"$d/rc"
  mkfifo "$d/in"
  exec {fd}<>"$d/in"
  HOME=$d timeout -k 2 40 linphonec -c "$d/rc" -d 6 -l "$d/log" -a <"$d/in" >"$d/out" 2>&1 &
  lp=$!
  PIDS+=("$lp")
  echo "soundcard use files" >&$fd
  if ! wait_for "$d/log" 'reachability state is now \[UP\]' 15; then
    fail "direct: linphonec up on 127.0.0.1:5072" "$d/log"
  else
    spawn direct 35 "$SIPHER" call sip:1001@127.0.0.1:5072 --media-encryption zrtp \
      --zrtp-sas b256 --duration 3 --json
    finish_pid "$SPAWNED_PID" 30
    wait_for "$d/out" 'auth token is' 3
  fi
  echo quit >&$fd
  wait_pid "$lp" 5 >/dev/null 2>&1
  [ $? = 255 ] && stop_pid "$lp"
  exec {fd}>&-
  sec=$(sec_event "$RUNDIR/direct.out")
  a=$(field "$sec" sas); b=$(lp_sas lp-direct)
  [[ $b =~ ^[A-Za-z]+:[A-Za-z]+$ ]] && [ "$a" = "$b" ]
  check "direct: sipher -> linphonec with no server: the same two PGP words (B256)" $? \
    "sipher '$a', linphonec '$b'"
  grep -qE '"cipher":"AES-256".*"hash":"S384".*"key_agreement":"X255"' <<<"$sec"
  check "direct: linphonec's full suite negotiated (X255, AES-256, S384)" $? "$sec"
}

# --- cache: retained secrets carried from one call to the next ---------------------------------

# sec_event FILE: the last ZRTP security event of a sipher run (null if none).
sec_event() { json_events "$1" '.event == "security" and .mode == "zrtp"' | tail -1 | grep . || echo null; }
# field JSON KEY: one field of a security event, "none" when missing.
field() { jq -r "if .$2 == null then \"none\" else .$2 end" <<<"$1" 2>/dev/null; }
# cache_peers DIR: the peer ZIDs sipher's cache file in DIR holds, comma-separated.
cache_peers() { jq -r '.peers | keys | join(",")' "$1/zrtp-cache.json" 2>/dev/null; }

# cache_lp_call NAME: sipher 1000 (--data-dir $RUNDIR/data-lp) calls linphonec 1001, whose HOME
# ($RUNDIR/lp-home, where linphonec keeps its ZID and retained secrets in .linphone-zidcache) is
# kept across linphonec runs. Sets SEC to sipher's security event.
cache_lp_call() {
  local name=$1 a b
  SEC=null
  LP_HOME=$RUNDIR/lp-home linphone_start "lp-$name" b udp zrtp 40 -a
  if ! linphone_registered "lp-$name" 15; then fail "$name: linphonec registered"; linphone_stop "lp-$name"; return 1; fi
  spawn "$name" 35 "$SIPHER" call sip:1001@127.0.0.1 --account "$RUNDIR/cache.toml" --json \
    --data-dir "$RUNDIR/data-lp" --duration 3
  finish_pid "$SPAWNED_PID" 30
  wait_for "$RUNDIR/lp-$name/out" 'auth token is' 3
  linphone_stop "lp-$name"
  SEC=$(sec_event "$RUNDIR/$name.out")
  a=$(field "$SEC" sas); b=$(lp_sas "lp-$name")
  [ "$a" != none ] && [ "$a" = "$b" ]
  check "$name: same SAS on both sides" $? "sipher '$a', linphonec '$b'"
}

# cache_linphone: cache continuity with linphonec (bzrtp) across calls. Both keep their ZID and
# secrets: the first call is "new" for sipher, the second "match" (the retained secret of the
# first entered both sides' s0, or the keys and SAS would differ). Then sipher's secrets are wiped
# (its ZID kept): sipher says "new", and bzrtp, which still holds a secret for sipher's ZID, must
# still agree on the keys (same SAS) without the old secret.
cache_linphone() {
  rm -rf "$RUNDIR/data-lp" "$RUNDIR/lp-home"
  account "$RUNDIR/cache.toml" 1000
  cache_lp_call cache-lp-1 || return
  [ "$(field "$SEC" cache)" = new ]
  check "cache-lp-1: first call with linphonec, sipher's cache says new" $? "$SEC"
  local first
  first=$(cache_peers "$RUNDIR/data-lp")
  cache_lp_call cache-lp-2 || return
  [ -n "$first" ] && [ "$(cache_peers "$RUNDIR/data-lp")" = "$first" ] && [ "$(field "$SEC" cache)" = match ]
  check "cache-lp-2: second call, same linphonec ZID ($first), sipher's cache says match" $? "$SEC"
  rm -f "$RUNDIR/data-lp/zrtp-cache.json"
  cache_lp_call cache-lp-3 || return
  [ "$(field "$SEC" cache)" = new ] && [ "$(field "$SEC" verified)" = false ]
  check "cache-lp-3: sipher's secrets wiped: new, not verified, and still the same SAS" $? "$SEC"
}

# sipher_pair NAME CALLER-DATA ANSWER-DATA [sipher args...]: `sipher call` -> `sipher answer`
# directly (answer on 127.0.0.1:5097, no registrar), each with its own --data-dir. Sets SEC_C and
# SEC_A to the two security events.
sipher_pair() {
  local name=$1 dc=$2 da=$3 pid rc
  shift 3
  spawn "$name-answer" 30 "$SIPHER" answer --bind 127.0.0.1:5097 --media-encryption zrtp --json \
    --max-calls 1 --data-dir "$da" "$@"
  pid=$SPAWNED_PID
  wait_event "$RUNDIR/$name-answer.out" '.event == "listening"' 10
  spawn "$name-call" 30 "$SIPHER" call sip:cache@127.0.0.1:5097 --media-encryption zrtp --json \
    --duration 2 --data-dir "$dc" "$@"
  finish_pid "$SPAWNED_PID" 25
  rc=$?
  finish_pid "$pid" 10
  SEC_C=$(sec_event "$RUNDIR/$name-call.out"); SEC_A=$(sec_event "$RUNDIR/$name-answer.out")
  [ "$rc" = 0 ] && [ "$(field "$SEC_C" sas)" != none ] && [ "$(field "$SEC_C" sas)" = "$(field "$SEC_A" sas)" ]
  check "$name: sipher -> sipher secured, same SAS" $? "rc=$rc; $(field "$SEC_C" sas) / $(field "$SEC_A" sas)"
}
# states: "caller cache/verified, answerer cache/verified" of the last sipher_pair.
states() {
  echo "$(field "$SEC_C" cache)/$(field "$SEC_C" verified) $(field "$SEC_A" cache)/$(field "$SEC_A" verified)"
}

# cache_sipher: the whole cache story between two sipher data dirs. 1: new on both sides. 2: match
# on both, and both confirm the SAS (--confirm-sas). 3: match and verified on both. Then the
# caller's retained secrets are wiped (its ZID kept, as after a restore of an old backup): 4: the
# caller says new, the answerer, which still holds a secret for that ZID, says mismatch and the
# peer is no longer shown verified.
cache_sipher() {
  local c=$RUNDIR/data-c a=$RUNDIR/data-a got
  rm -rf "$c" "$a"
  sipher_pair cache-s1 "$c" "$a"
  got=$(states)
  [ "$got" = "new/false new/false" ]
  check "cache-s1: first call: new on both sides" $? "caller, answerer cache/verified: $got"
  sipher_pair cache-s2 "$c" "$a" --confirm-sas
  got=$(states)
  [ "${got// /,}" = "match/false,match/false" ] || [ "${got// /,}" = "match/true,match/true" ]
  check "cache-s2: second call: the retained secret matches on both sides" $? "cache/verified: $got"
  sipher_pair cache-s3 "$c" "$a"
  got=$(states)
  [ "$got" = "match/true match/true" ]
  check "cache-s3: after both confirmed the SAS: match and verified on both sides" $? "cache/verified: $got"
  rm -f "$c/zrtp-cache.json"
  sipher_pair cache-s4 "$c" "$a"
  got=$(states)
  [ "$(field "$SEC_C" cache)" = new ] && [ "$(field "$SEC_A" cache)" = mismatch ] \
    && [ "$(field "$SEC_A" verified)" = false ]
  check "cache-s4: caller's secrets wiped: caller says new, answerer says mismatch, not verified" $? \
    "cache/verified: $got"
}

main() {
  echo "sipher: $SIPHER   RUNDIR: $RUNDIR"
  [ -x "$SIPHER" ] || { fail "sipher binary present" "$SIPHER"; summary; exit 1; }
  if [[ " ${TESTS[*]} " == *" audio "* ]]; then
    speech_and_kamailio_up || { summary; exit 1; }   # the test speech, then kamailio
  else
    kamailio_up || { fail "kamailio starts"; summary; exit 1; }
  fi
  local t
  for t in "${TESTS[@]}"; do
    case $t in
      # linphonec's default Hello: DH3k, AES1/AES3, S256. Whoever wins the Commit contention
      # chooses the cipher (sipher prefers AES-256, linphonec AES-128); the key agreement is DH3k.
      out) call_out out "" '"cipher":"AES-(128|256)".*"key_agreement":"DH3k"' ;;
      in) call_in ;;
      # linphonec's full suite: X255, AES3, S384 — all of them negotiated.
      full) call_out full "$FULL_SUITE" '"cipher":"AES-256".*"hash":"S384".*"key_agreement":"X255"' ;;
      audio) score_control; call_audio ;;
      b256) call_b256 ;;
      direct) call_direct ;;
      cache) cache_linphone; cache_sipher ;;
      *) fail "unknown test '$t'" "known: ${ALL_TESTS[*]}" ;;
    esac
  done
  print_table
  summary
}
main
