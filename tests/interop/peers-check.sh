#!/bin/bash
# Checks that the interop peers themselves work on this machine before sipher is tested against
# them (a failure here means the environment is broken, not sipher):
#   kamailio starts; sipp REGISTERs over UDP and TCP (401 then 200) and with a wrong password
#   (401 then 403); sipp UAC -> sipp UAS directly; sipp UAC 1002 -> kamailio (407) -> sipp UAS 1003;
#   linphonec 1000 -> kamailio -> linphonec 1001 call (no media encryption), paused and resumed,
#   hung up by the caller.
# Bounded (~30 s); prints PASS/FAIL lines and "N passed, M failed"; exit 1 on any failure.
set -u
. "$(dirname "$0")/lib.sh"
kamailio_up || { fail "kamailio starts" "see $RUNDIR/kamailio-start.txt"; summary; exit 1; }
pass "kamailio starts" "RUNDIR=$RUNDIR"
cd "$RUNDIR" || exit 1

timeout -k 2 20 sipp 127.0.0.1:5060 "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/register.xml" -key expires 60 \
  -s 1000 -au 1000 -ap pw1000 -p 5090 -t u1 -message_file reg-udp.log >/dev/null 2>&1
check "sipp REGISTER udp 1000" $? "$(sipp_codes reg-udp.log)"
timeout -k 2 20 sipp 127.0.0.1:5060 "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/register.xml" -key expires 60 \
  -s 1000 -au 1000 -ap pw1000 -p 5091 -t t1 -message_file reg-tcp.log >/dev/null 2>&1
check "sipp REGISTER tcp 1000" $? "$(sipp_codes reg-tcp.log)"
timeout -k 2 20 sipp 127.0.0.1:5060 "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/register-bad.xml" \
  -s 1001 -au 1001 -ap wrong -p 5092 -t u1 -message_file reg-bad.log >/dev/null 2>&1
check "sipp REGISTER udp 1001 wrong password -> 403" $? "$(sipp_codes reg-bad.log)"

spawn sipp-uas-direct 25 sipp "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/uas.xml" -p 5081 -message_file uas-direct.log
UAS=$SPAWNED_PID
sleep 0.5
timeout -k 2 20 sipp 127.0.0.1:5081 "${SIPP_ARGS[@]}" -sn uac -s 9999 -p 5082 -message_file uac-direct.log >/dev/null 2>&1
check "sipp uac -> sipp uas direct" $? "$(sipp_codes uac-direct.log)"
wait_pid "$UAS" 10
check "sipp uas (direct) saw the whole call" $? "$(sipp_codes uas-direct.log)"

sipp_register 1003 5080 60
check "sipp REGISTER udp 1003 (contact port 5080)" $?
spawn sipp-uas-proxy 25 sipp "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/uas.xml" -p 5080 -message_file uas-proxy.log
UAS=$SPAWNED_PID
sleep 0.5
timeout -k 2 20 sipp 127.0.0.1:5060 "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/uac-auth.xml" -s 1003 -au 1002 \
  -ap pw1002 -p 5083 -t u1 -message_file uac-proxy.log >/dev/null 2>&1
check "sipp uac 1002 -> kamailio (407) -> sipp uas 1003" $? "$(sipp_codes uac-proxy.log)"
wait_pid "$UAS" 10
check "sipp uas behind kamailio saw the whole call" $? "$(sipp_codes uas-proxy.log)"
sipp_register 1003 5080 0
check "sipp un-REGISTER 1003" $?

linphone_start lp-a a udp none 40
linphone_start lp-b b udp none 40 -a
linphone_registered lp-a 15 && linphone_registered lp-b 15
check "linphonec 1000 and 1001 register (udp)" $? "$RUNDIR/lp-a/log"
lp_cmd lp-a "call sip:1001@127.0.0.1"
ok=0
wait_for "$RUNDIR/lp-a/out" 'Call [0-9]+ with sip:1001@127.0.0.1 connected' 10 \
  && wait_for "$RUNDIR/lp-b/out" 'Call [0-9]+ with .*sip:1000@127.0.0.1.* connected' 5 || ok=1
check "linphonec 1000 -> kamailio -> linphonec 1001 connected" $ok
sleep 1
lp_cmd lp-a pause
wait_for "$RUNDIR/lp-b/out" 'Call [0-9]+ has been paused by' 5
check "linphonec 1000 pauses, 1001 sees paused-by-remote" $?
lp_cmd lp-a resume
ok=1
for _ in $(seq 1 50); do   # resumed = a second "Media streams established" at the callee
  [ "$(grep -c 'Media streams established' "$RUNDIR/lp-b/out")" -ge 2 ] && { ok=0; break; }
  sleep 0.1
done
check "linphonec 1000 resumes, 1001 streams running again" $ok
sleep 0.5
lp_cmd lp-a terminate
ok=0
wait_for "$RUNDIR/lp-a/out" 'Call [0-9]+ with .* ended' 5 && wait_for "$RUNDIR/lp-b/out" 'Call [0-9]+ with .* ended' 5 || ok=1
check "linphonec call ended on both sides" $ok
linphone_stop lp-a
linphone_stop lp-b
summary
