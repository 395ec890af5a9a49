#!/bin/bash
# sipher against third-party peers on 127.0.0.1: kamailio (registrar/proxy), sipp, linphonec.
#   SIPHER=path/to/sipher tests/interop/sipher-interop.sh [TEST...]
# SIPHER defaults to $CARGO_TARGET_DIR/debug/sipher, else target/debug/sipher of this repo.
# Tests (all by default; name some to run only those):
#   register      REGISTER over UDP, TCP and TLS (TLS verifies kamailio's self-signed cert through
#                 ca_file): "registered" then "unregistered" events, exit 0, kamailio logged the
#                 REGISTER on that transport and has no binding left afterwards
#   badpw         wrong password: exit 1 at once with "registration failed: 403 Forbidden - wrong
#                 password" on stderr, a "failed" event, at most 2 REGISTERs seen by kamailio
#   sipp-uas      sipher calls a sipp UAS directly and through kamailio (sipp registered as 1003)
#   sipp-uac      sipp UAC 1002 (407 challenge at kamailio) calls `sipher answer` registered as 1003
#   reject        sipher calls a sipp UAS that answers 486: exit 1 with "call failed: 486 Busy Here";
#                 a sipp UAC calls `sipher answer --reject 486` directly and gets 486
#   linphone      sipher 1000 <-> linphonec 1001 through kamailio (media_encryption=none), both
#                 directions; sipher holds/resumes and hangs up in one, linphonec in the other
#   tls           sipher 1002 -> kamailio -> sipher 1003, both over TLS
#   demo          `sipher demo` runs to completion; its second call is Verified on both phones
# Every process runs under `timeout`; prints PASS/FAIL lines and "N passed, M failed";
# exit 1 on any failure. Runtime files: $RUNDIR (default a fresh directory under /tmp).
set -u
. "$(dirname "$0")/lib.sh"

SIPHER=${SIPHER:-${CARGO_TARGET_DIR:-$REPO_DIR/target}/debug/sipher}
case $SIPHER in /*) ;; *) SIPHER=$PWD/$SIPHER ;; esac
ALL_TESTS=(register badpw sipp-uas sipp-uac reject linphone tls demo)
TESTS=("$@")
[ ${#TESTS[@]} = 0 ] && TESTS=("${ALL_TESTS[@]}")

main() {
  echo "sipher: $SIPHER   RUNDIR: $RUNDIR"
  if [ ! -x "$SIPHER" ]; then
    fail "sipher binary present" "$SIPHER not found; build it with cargo build"
    summary
    exit 1
  fi
  if ! kamailio_up; then
    fail "kamailio starts" "see $RUNDIR/kamailio-start.txt"
    summary
    exit 1
  fi
  cd "$RUNDIR" || exit 1
  local t
  for t in "${TESTS[@]}"; do
    case $t in
      register) test_register udp; test_register tcp; test_register tls ;;
      badpw) test_wrong_password ;;
      sipp-uas) test_call_sipp_uas_direct; test_call_sipp_uas_proxy ;;
      sipp-uac) test_sipp_uac_calls_sipher ;;
      reject) test_call_rejected; test_answer_rejects ;;
      linphone) test_sipher_calls_linphone; test_linphone_calls_sipher ;;
      tls) test_sipher_sipher_tls ;;
      demo) test_demo ;;
      *) fail "unknown test '$t'" "known: ${ALL_TESTS[*]}" ;;
    esac
  done
  check_json_output
  summary
}

# check_json_output: with --json, every stdout line of every sipher run must be one JSON object
# with a string "event" field (that is what scripts and the tests above rely on).
check_json_output() {
  local f bad=() n=0 lines=0
  shopt -s nullglob
  for f in reg-*.out call-*.out answer-*.out; do
    n=$((n + 1))
    lines=$((lines + $(grep -c . "$f")))
    if jq -eR 'select(length > 0) | fromjson | select(type != "object" or (.event | type) != "string")' \
      "$f" >/dev/null 2>&1 || ! jq -R 'select(length > 0) | fromjson' "$f" >/dev/null 2>&1; then
      bad+=("$f")
    fi
  done
  shopt -u nullglob
  [ $n -gt 0 ] || return 0
  [ ${#bad[@]} = 0 ] && [ $lines -gt 0 ]
  check "--json output of $n sipher runs: one JSON object with an \"event\" per line" $? \
    "$lines lines${bad[*]:+; bad: ${bad[*]}}"
}

# write_account FILE USER PASSWORD TRANSPORT: a sipher account file for kamailio on 127.0.0.1.
write_account() {
  {
    echo "user = \"$2\""
    echo "password = \"$3\""
    echo 'domain = "127.0.0.1"'
    echo "transport = \"$4\""
    if [ "$4" = tls ]; then
      echo 'port = 5061'
      echo "ca_file = \"$KCERT\""
    fi
    echo 'expires = 600'
  } >"$1"
}

# call_detail FILE: states of the "call" events, plus who ended it, for PASS/FAIL lines.
call_detail() {
  echo "call states: $(event_states "$1" call); ended by: $(json_events "$1" '.event == "call" and .state == "ended"' | jq -r '.by' | paste -sd, -)"
}
# ended_by FILE local|remote
ended_by() { has_event "$1" ".event == \"call\" and .state == \"ended\" and .by == \"$2\""; }

test_register() {
  local tr=$1 name=reg-$1 mark rc ok=0
  write_account "$RUNDIR/acc-1000-$tr.toml" 1000 pw1000 "$tr"
  mark=$(klog_mark)
  spawn "$name" 30 "$SIPHER" register --account "$RUNDIR/acc-1000-$tr.toml" --json --duration 2
  finish_pid "$SPAWNED_PID" 25
  rc=$?
  [ $rc = 0 ] && states_in_order "$name.out" registration registered unregistered || ok=1
  check "register $tr: registered, then unregistered on exit, exit 0" $ok \
    "rc=$rc registration states: $(event_states "$name.out" registration); $RUNDIR/$name.{out,err}"
  klog_since "$mark" | grep -qE "REGISTERED sip:1000@127\.0\.0\.1 .*from 127\.0\.0\.1:[0-9]+/$tr"
  check "register $tr: kamailio saved the binding from a $tr connection" $? \
    "$(klog_since "$mark" | grep -oE 'REGISTERED .*' | head -2 | paste -sd'|' -)"
  if has_event "$name.out" '.event == "registration" and .state == "registered"'; then
    sipp_not_registered 1000
    check "register $tr: no binding left at kamailio after exit" $? "$(sipp_codes sipp-unreg-1000.log)"
  else
    fail "register $tr: no binding left at kamailio after exit" "never registered"
  fi
}

test_wrong_password() {
  local name=reg-badpw mark t0 ms rc n
  write_account "$RUNDIR/acc-1001-bad.toml" 1001 wrongpassword udp
  mark=$(klog_mark)
  t0=$(now_ms)
  spawn "$name" 20 "$SIPHER" register --account "$RUNDIR/acc-1001-bad.toml" --json
  finish_pid "$SPAWNED_PID" 15
  rc=$?
  ms=$(($(now_ms) - t0))
  [ $rc = 1 ] && [ $ms -lt 5000 ]
  check "wrong password: exit 1 at once" $? "rc=$rc after ${ms} ms"
  grep -qF 'registration failed: 403 Forbidden - wrong password' "$name.err"
  check "wrong password: clear line on stderr" $? "stderr: $(head -c 300 "$name.err" | paste -sd'|' -)"
  has_event "$name.out" '.event == "registration" and .state == "failed" and .status == 403'
  check "wrong password: JSON registration failed 403" $? "states: $(event_states "$name.out" registration)"
  sleep 1   # a retry would show up in kamailio's log within this second
  n=$(klog_since "$mark" | grep -cE 'REQ REGISTER .*\(fU=1001\)')
  [ "$n" -ge 1 ] && [ "$n" -le 2 ]
  check "wrong password: at most 2 REGISTERs reached kamailio" $? "$n REGISTERs"
}

test_call_sipp_uas_direct() {
  local uas rc src name=call-sipp-direct
  spawn sipp-uas-direct 30 sipp "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/uas.xml" -p 5080 -message_file uas-direct.log
  uas=$SPAWNED_PID
  sleep 0.5
  spawn "$name" 30 "$SIPHER" call sip:service@127.0.0.1:5080 --bind 127.0.0.1:5094 --transport udp \
    --json --duration 1 --timeout 10
  finish_pid "$SPAWNED_PID" 25
  rc=$?
  [ $rc = 0 ] && states_in_order "$name.out" call connected ended && ended_by "$name.out" local
  check "sipher -> sipp uas direct: connected, BYE by sipher, exit 0" $? "rc=$rc $(call_detail "$name.out")"
  finish_pid "$uas" 10
  src=$?
  check "sipher -> sipp uas direct: sipp scenario passed" $src "$(sipp_codes uas-direct.log)"
}

test_call_sipp_uas_proxy() {
  local uas rc src name=call-sipp-proxy
  write_account "$RUNDIR/acc-1000-udp.toml" 1000 pw1000 udp
  if ! sipp_register 1003 5080 60; then
    fail "sipher -> kamailio -> sipp uas 1003" "sipp could not register as 1003"
    return
  fi
  spawn sipp-uas-proxy 40 sipp "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/uas.xml" -p 5080 -message_file uas-proxy.log
  uas=$SPAWNED_PID
  sleep 0.5
  spawn "$name" 30 "$SIPHER" call sip:1003@127.0.0.1 --account "$RUNDIR/acc-1000-udp.toml" --json \
    --duration 1 --timeout 15
  finish_pid "$SPAWNED_PID" 25
  rc=$?
  [ $rc = 0 ] && states_in_order "$name.out" call connected ended && ended_by "$name.out" local
  check "sipher 1000 -> kamailio (407) -> sipp uas 1003: connected, BYE by sipher, exit 0" $? \
    "rc=$rc $(call_detail "$name.out")"
  finish_pid "$uas" 10
  src=$?
  check "sipher 1000 -> kamailio -> sipp uas 1003: sipp scenario passed" $src "$(sipp_codes uas-proxy.log)"
  sipp_register 1003 5080 0 || echo "note: sipp could not remove its 1003 binding"
}

test_sipp_uac_calls_sipher() {
  local pid rc src name=answer-sipp
  write_account "$RUNDIR/acc-1003-udp.toml" 1003 pw1003 udp
  spawn "$name" 40 "$SIPHER" answer --account "$RUNDIR/acc-1003-udp.toml" --json --max-calls 1
  pid=$SPAWNED_PID
  if ! wait_event "$name.out" '.event == "registration" and .state == "registered"' 10; then
    fail "sipp uac 1002 -> kamailio -> sipher answer 1003" "sipher did not register: $RUNDIR/$name.{out,err}"
    stop_pid "$pid"
    return
  fi
  timeout -k 2 25 sipp 127.0.0.1:5060 "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/uac-auth.xml" -s 1003 -au 1002 \
    -ap pw1002 -p 5083 -t u1 -message_file uac-sipher.log >/dev/null 2>&1
  src=$?
  check "sipp uac 1002 -> kamailio (407) -> sipher 1003: sipp scenario passed" $src "$(sipp_codes uac-sipher.log)"
  finish_pid "$pid" 15
  rc=$?
  [ $rc = 0 ] && states_in_order "$name.out" call connected ended && ended_by "$name.out" remote
  check "sipp uac -> sipher answer: connected, ended by remote, exit 0 after --max-calls 1" $? \
    "rc=$rc $(call_detail "$name.out")"
}

test_call_rejected() {
  local uas rc name=call-busy
  spawn sipp-uas-busy 30 sipp "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/uas-busy.xml" -p 5080 -message_file uas-busy.log
  uas=$SPAWNED_PID
  sleep 0.5
  spawn "$name" 30 "$SIPHER" call sip:busy@127.0.0.1:5080 --bind 127.0.0.1:5094 --transport udp --json \
    --timeout 10
  finish_pid "$SPAWNED_PID" 20
  rc=$?
  [ $rc = 1 ] && grep -qF 'call failed: 486 Busy Here' "$name.err"
  check "sipher -> sipp 486: exit 1 with 'call failed: 486 Busy Here'" $? \
    "rc=$rc stderr: $(head -c 200 "$name.err" | paste -sd'|' -)"
  has_event "$name.out" '.event == "call" and .state == "failed" and .status == 486'
  check "sipher -> sipp 486: JSON call failed 486" $? "$(call_detail "$name.out")"
  finish_pid "$uas" 10
  check "sipher -> sipp 486: sipp got the ACK" $? "$(sipp_codes uas-busy.log)"
}

test_answer_rejects() {
  local pid name=answer-reject
  spawn "$name" 30 "$SIPHER" answer --bind 127.0.0.1:5095 --transport udp --json --reject 486 --max-calls 1
  pid=$SPAWNED_PID
  if ! wait_event "$name.out" '.event == "listening"' 10; then
    fail "sipp -> sipher answer --reject 486" "no listening event: $RUNDIR/$name.{out,err}"
    stop_pid "$pid"
    return
  fi
  timeout -k 2 20 sipp 127.0.0.1:5095 "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/uac-busy.xml" -s 1003 -p 5084 \
    -message_file uac-busy.log >/dev/null 2>&1
  check "sipp -> sipher answer --reject 486: sipp got 486 and ACKed" $? "$(sipp_codes uac-busy.log)"
  has_event "$name.out" '.event == "call" and .state == "incoming"'
  check "sipp -> sipher answer --reject 486: sipher reported the incoming call" $? "$(call_detail "$name.out")"
  finish_pid "$pid" 5 || stop_pid "$pid"
}

# sipher 1000 calls linphonec 1001 (auto-answer); sipher holds at 2 s, resumes at 4 s, hangs up at 6 s.
test_sipher_calls_linphone() {
  local rc ok lp=$RUNDIR/lp-callee name=call-linphone
  write_account "$RUNDIR/acc-1000-udp.toml" 1000 pw1000 udp
  linphone_start lp-callee b udp none 60 -a
  if ! linphone_registered lp-callee 15; then
    fail "sipher -> linphonec" "linphonec 1001 did not register: $lp/log"
    linphone_stop lp-callee
    return
  fi
  spawn "$name" 40 "$SIPHER" call sip:1001@127.0.0.1 --account "$RUNDIR/acc-1000-udp.toml" --json \
    --hold-at 2 --resume-at 4 --duration 6 --timeout 15
  finish_pid "$SPAWNED_PID" 30
  rc=$?
  [ $rc = 0 ] && states_in_order "$name.out" call connected held resumed ended && ended_by "$name.out" local
  check "sipher 1000 -> linphonec 1001: connected, held, resumed, ended by sipher, exit 0" $? \
    "rc=$rc $(call_detail "$name.out")"
  wait_for "$lp/out" 'Call [0-9]+ with .*sip:1000@127\.0\.0\.1.* connected' 1
  check "sipher -> linphonec: linphonec reports the call connected" $?
  ok=0
  grep -qE 'Call [0-9]+ has been paused by .*sip:1000@' "$lp/out" || ok=1
  # resumed: streams established again after the "paused by" line
  sed -n '/has been paused by/,$p' "$lp/out" | grep -q 'Media streams established' || ok=1
  check "sipher -> linphonec: linphonec saw paused-by-remote, then resumed" $ok
  wait_for "$lp/out" 'Call [0-9]+ with .* ended' 3
  check "sipher -> linphonec: linphonec reports the call ended" $?
  linphone_stop lp-callee
}

# linphonec 1001 calls `sipher answer` 1000; linphonec pauses at 2 s, resumes, hangs up.
test_linphone_calls_sipher() {
  local pid rc ok lp=$RUNDIR/lp-caller name=answer-linphone
  write_account "$RUNDIR/acc-1000-udp.toml" 1000 pw1000 udp
  spawn "$name" 60 "$SIPHER" answer --account "$RUNDIR/acc-1000-udp.toml" --json --max-calls 1
  pid=$SPAWNED_PID
  linphone_start lp-caller b udp none 60
  if ! wait_event "$name.out" '.event == "registration" and .state == "registered"' 10 \
    || ! linphone_registered lp-caller 15; then
    fail "linphonec -> sipher" "registration failed: $RUNDIR/$name.{out,err} $lp/log"
    linphone_stop lp-caller
    stop_pid "$pid"
    return
  fi
  lp_cmd lp-caller "call sip:1000@127.0.0.1"
  wait_for "$lp/out" 'Call [0-9]+ with sip:1000@127\.0\.0\.1 connected' 10 \
    && wait_event "$name.out" '.event == "call" and .state == "connected"' 3
  check "linphonec 1001 -> sipher 1000: connected on both sides" $? "$(call_detail "$name.out")"
  sleep 2
  lp_cmd lp-caller pause
  ok=0
  wait_for "$lp/out" 'Call [0-9]+ with .* is now paused' 5 || ok=1
  wait_event "$name.out" '.event == "call" and .state == "remote_hold"' 5 || ok=1
  check "linphonec -> sipher: linphonec pauses, sipher reports remote_hold" $ok "$(call_detail "$name.out")"
  sleep 1
  lp_cmd lp-caller resume
  ok=1
  local end=$(($(now_ms) + 5000))
  while [ "$(now_ms)" -lt $end ]; do
    # after remote_hold, sipher reports the call active again ("resumed", or "connected")
    if json_events "$name.out" '.event == "call"' | jq -r .state | sed -n '/remote_hold/,$p' \
      | grep -qE '^(resumed|connected)$'; then
      ok=0
      break
    fi
    sleep 0.1
  done
  check "linphonec -> sipher: linphonec resumes, sipher reports the call active again" $ok \
    "$(call_detail "$name.out")"
  sleep 1
  lp_cmd lp-caller terminate
  wait_for "$lp/out" 'Call [0-9]+ with .* ended' 5
  check "linphonec -> sipher: linphonec hangs up, its call ended" $?
  finish_pid "$pid" 10
  rc=$?
  [ $rc = 0 ] && ended_by "$name.out" remote
  check "linphonec -> sipher: sipher reports ended by remote, exit 0 after --max-calls 1" $? \
    "rc=$rc $(call_detail "$name.out")"
  linphone_stop lp-caller
}

test_sipher_sipher_tls() {
  local apid cpid arc crc mark callee=answer-tls caller=call-tls
  write_account "$RUNDIR/acc-1003-tls.toml" 1003 pw1003 tls
  write_account "$RUNDIR/acc-1002-tls.toml" 1002 pw1002 tls
  mark=$(klog_mark)
  spawn "$callee" 40 "$SIPHER" answer --account "$RUNDIR/acc-1003-tls.toml" --json --max-calls 1
  apid=$SPAWNED_PID
  if ! wait_event "$callee.out" '.event == "registration" and .state == "registered"' 10; then
    fail "sipher -> sipher over TLS" "callee did not register over TLS: $RUNDIR/$callee.{out,err}"
    stop_pid "$apid"
    return
  fi
  spawn "$caller" 30 "$SIPHER" call sip:1003@127.0.0.1 --account "$RUNDIR/acc-1002-tls.toml" --json \
    --duration 2 --timeout 15
  cpid=$SPAWNED_PID
  finish_pid "$cpid" 25
  crc=$?
  finish_pid "$apid" 10
  arc=$?
  [ $crc = 0 ] && states_in_order "$caller.out" call connected ended && ended_by "$caller.out" local
  check "sipher 1002 -> sipher 1003 over TLS: caller connected, hung up, exit 0" $? \
    "rc=$crc $(call_detail "$caller.out")"
  [ $arc = 0 ] && states_in_order "$callee.out" call connected ended && ended_by "$callee.out" remote
  check "sipher 1002 -> sipher 1003 over TLS: callee connected, ended by remote, exit 0" $? \
    "rc=$arc $(call_detail "$callee.out")"
  klog_since "$mark" | grep -qE 'REQ INVITE sip:1003@127\.0\.0\.1 from 127\.0\.0\.1:[0-9]+/tls' \
    && klog_since "$mark" | grep -qE 'LOOKUP INVITE -> .*transport=tls'
  check "sipher -> sipher over TLS: kamailio got and relayed the INVITE over TLS" $? \
    "$(klog_since "$mark" | grep -oE '(REQ|LOOKUP) INVITE.*' | head -2 | paste -sd'|' -)"
}

test_demo() {
  local rc
  spawn demo 40 "$SIPHER" demo
  finish_pid "$SPAWNED_PID" 35
  rc=$?
  [ $rc = 0 ] && [ -s demo.out ]
  check "sipher demo: runs to the end, exit 0" $? "rc=$rc $(tail -n 2 demo.out | paste -sd'|' -)"
  # The SAS was confirmed on the first call: after the restart both phones say Verified.
  [ "$(grep -c 'sees: *ZRTP - Verified (SAS .*, cache match)' demo.out)" = 2 ]
  check "sipher demo: the second call is ZRTP - Verified on both phones" $? \
    "$(grep 'sees:' demo.out | paste -sd'|' -)"
}

main
