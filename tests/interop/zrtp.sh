#!/bin/bash
# ZRTP between sipher and linphonec (bzrtp) through kamailio on 127.0.0.1, both directions, with
# linphonec's default suite and with its full suite (X255, AES3, S384, B256): both sides must show
# the same SAS, and the audio must get through (sipher records what linphonec plays).
#   SIPHER=path/to/sipher tests/interop/zrtp.sh [out|in|full]
# Every process runs under `timeout`; PASS/FAIL lines and "N passed, M failed"; exit 1 on failure.
set -u
. "$(dirname "$0")/lib.sh"

SIPHER=${SIPHER:-${CARGO_TARGET_DIR:-$REPO_DIR/target}/debug/sipher}
case $SIPHER in /*) ;; *) SIPHER=$PWD/$SIPHER ;; esac
TESTS=("$@")
[ ${#TESTS[@]} = 0 ] && TESTS=(out in full)

FULL_SUITE='[sip]
zrtp_key_agreements_suites=MS_ZRTP_KEY_AGREEMENT_X255,MS_ZRTP_KEY_AGREEMENT_DH3K
zrtp_cipher_suites=MS_ZRTP_CIPHER_AES3,MS_ZRTP_CIPHER_AES1
zrtp_hash_suites=MS_ZRTP_HASH_S384,MS_ZRTP_HASH_S256
zrtp_auth_suites=MS_ZRTP_AUTHTAG_HS80,MS_ZRTP_AUTHTAG_HS32
zrtp_sas_suites=MS_ZRTP_SAS_B256,MS_ZRTP_SAS_B32'

account() { # FILE USER
  cat >"$1" <<EOF
user = "$2"
password = "pw$2"
domain = "127.0.0.1"
transport = "udp"
media_encryption = "zrtp"
EOF
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

main() {
  echo "sipher: $SIPHER   RUNDIR: $RUNDIR"
  [ -x "$SIPHER" ] || { fail "sipher binary present" "$SIPHER"; summary; exit 1; }
  kamailio_up || { fail "kamailio starts"; summary; exit 1; }
  local t
  for t in "${TESTS[@]}"; do
    case $t in
      # linphonec's default Hello: DH3k, AES1/AES3, S256. Whoever wins the Commit contention
      # chooses the cipher (sipher prefers AES-256, linphonec AES-128); the key agreement is DH3k.
      out) call_out out "" '"cipher":"AES-(128|256)".*"key_agreement":"DH3k"' ;;
      in) call_in ;;
      # linphonec's full suite: X255, AES3, S384 — all of them negotiated.
      full) call_out full "$FULL_SUITE" '"cipher":"AES-256".*"hash":"S384".*"key_agreement":"X255"' ;;
      *) fail "unknown test '$t'" ;;
    esac
  done
  summary
}
main
