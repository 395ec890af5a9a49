# shellcheck shell=bash
# Shared helpers for the interop scripts; source it (`. "$(dirname "$0")/lib.sh"`).
# - RUNDIR: runtime files (default: a fresh directory under /tmp), exported for start/stop scripts.
# - spawn/wait_pid: background processes under `timeout`, tracked by PID; the EXIT trap kills only
#   those PIDs (TERM, then KILL) and stops kamailio if this script started it.
# - wait_for/wait_event: every wait has a deadline in seconds.
# - pass/fail + summary: PASS/FAIL lines and the final line "N passed, M failed".
# Every process started here runs on 127.0.0.1 only.

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$INTEROP_DIR/../.." && pwd)
RUNDIR=${RUNDIR:-$(mktemp -d /tmp/sipher-interop.XXXXXX)}
export RUNDIR
mkdir -p "$RUNDIR"

PIDS=()
PASSED=0
FAILED=0
STARTED_KAMAILIO=0
declare -A LP_FD=()   # linphonec name -> fd of its stdin FIFO
declare -A LP_PID=()  # linphonec name -> pid

now_ms() { date +%s%3N; }

# pass NAME [DETAIL] / fail NAME DETAIL: one line each, counted for summary.
pass() { PASSED=$((PASSED + 1)); echo "PASS $1${2:+   [$2]}"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1${2:+   [$2]}"; }
# check NAME CONDITION-EXIT-CODE DETAIL
check() { if [ "$2" = 0 ]; then pass "$1" "${3:-}"; else fail "$1" "${3:-}"; fi; }

# summary: prints the final line and returns non-zero if anything failed.
summary() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
}

# wait_for FILE REGEX SECONDS: 0 once an extended REGEX matches a line of FILE, 1 at the deadline.
wait_for() {
  local end=$(($(now_ms) + $3 * 1000))
  while [ "$(now_ms)" -lt $end ]; do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# json_events FILE JQ-FILTER: the JSON lines of FILE (other lines ignored) passing the filter.
json_events() { jq -cR "fromjson? | select(type == \"object\") | select($2)" "$1" 2>/dev/null; }
# has_event FILE JQ-FILTER: 0 if some JSON line of FILE passes the filter.
has_event() { [ -n "$(json_events "$1" "$2")" ]; }
# wait_event FILE JQ-FILTER SECONDS
wait_event() {
  local end=$(($(now_ms) + $3 * 1000))
  while [ "$(now_ms)" -lt $end ]; do
    has_event "$1" "$2" && return 0
    sleep 0.1
  done
  return 1
}
# event_states FILE EVENT: the "state" values of EVENT lines, comma-separated, in order.
event_states() { json_events "$1" ".event == \"$2\"" | jq -r '.state' | paste -sd, -; }
# states_in_order FILE EVENT STATE...: 0 if the states occur in this order (others may be between).
states_in_order() {
  local file=$1 ev=$2 s rest
  shift 2
  rest=",$(event_states "$file" "$ev"),"
  for s in "$@"; do
    case $rest in
      *",$s,"*) rest=",${rest#*,"$s",}" ;;
      *) return 1 ;;
    esac
  done
}

# spawn NAME SECONDS CMD...: runs CMD under `timeout SECONDS` in the background with stdout in
# $RUNDIR/NAME.out and stderr in $RUNDIR/NAME.err; sets SPAWNED_PID and tracks it for cleanup.
spawn() {
  local name=$1 secs=$2
  shift 2
  timeout -k 2 "$secs" "$@" >"$RUNDIR/$name.out" 2>"$RUNDIR/$name.err" </dev/null &
  SPAWNED_PID=$!
  PIDS+=("$SPAWNED_PID")
}

# wait_pid PID SECONDS: waits for a spawned process; returns its exit code, or 255 (and leaves it
# running) if it has not exited by the deadline.
wait_pid() {
  local pid=$1 end=$(($(now_ms) + $2 * 1000))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$(now_ms)" -ge $end ] && return 255
    sleep 0.1
  done
  wait "$pid"
}

# stop_pid PID: SIGTERM (timeout forwards it to its child), SIGKILL after 3 s.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  wait_pid "$pid" 3 >/dev/null 2>&1
  local rc=$?
  if [ $rc = 255 ]; then kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  return 0
}

# finish_pid PID SECONDS: wait_pid, and if the process is still running at the deadline stop it
# (so that it frees its ports for the next test) and return 255.
finish_pid() {
  wait_pid "$1" "$2"
  local rc=$?
  [ $rc = 255 ] && stop_pid "$1"
  return $rc
}

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
  [ "$STARTED_KAMAILIO" = 1 ] && "$INTEROP_DIR/stop-kamailio.sh" >/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- kamailio -------------------------------------------------------------------------------
KLOG=$RUNDIR/kamailio/kamailio.log
KCERT=$RUNDIR/kamailio/cert.pem

# kamailio_up: starts kamailio under $RUNDIR unless it already runs there.
kamailio_up() {
  if [ -f "$RUNDIR/kamailio/kamailio.pid" ] && kill -0 "$(cat "$RUNDIR/kamailio/kamailio.pid")" 2>/dev/null; then
    return 0
  fi
  "$INTEROP_DIR/start-kamailio.sh" >"$RUNDIR/kamailio-start.txt" 2>&1 || {
    cat "$RUNDIR/kamailio-start.txt"
    return 1
  }
  STARTED_KAMAILIO=1
}
# klog_mark: current line count of the kamailio log (use with klog_since).
klog_mark() { wc -l <"$KLOG" 2>/dev/null || echo 0; }
# klog_since MARK: kamailio log lines written after klog_mark returned MARK.
klog_since() { tail -n +"$(($1 + 1))" "$KLOG" 2>/dev/null; }

# --- sipp -------------------------------------------------------------------------------------
SIPP_DIR=$INTEROP_DIR/sipp
# sipp_args: options every sipp run uses (bounded by -timeout; one call; no keyboard).
SIPP_ARGS=(-i 127.0.0.1 -m 1 -nostdin -timeout 15s -timeout_error -trace_msg)

# sipp_codes LOGFILE: the status lines sipp saw/sent, comma-separated (for PASS/FAIL details).
sipp_codes() { tr -d '\r' <"$1" 2>/dev/null | grep -oE '^SIP/2.0 [0-9]{3}.*' | paste -sd, -; }

# sipp_register USER PORT EXPIRES: registers USER with contact 127.0.0.1:PORT (UDP); 0 on 200 OK.
sipp_register() {
  timeout -k 2 20 sipp 127.0.0.1:5060 "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/register.xml" -s "$1" \
    -au "$1" -ap "pw$1" -key expires "$3" -p "$2" -t u1 \
    -message_file "$RUNDIR/sipp-reg-$1-$2-$3.log" >/dev/null 2>&1
}

# --- linphonec --------------------------------------------------------------------------------
# linphone_start NAME a|b TRANSPORT ENCRYPTION SECONDS [linphonec args...]
#   Copies linphone/linphone-<a|b>.rc to $RUNDIR/NAME/rc with proxy transport and media encryption
#   set, starts linphonec with its own HOME, stdin from a FIFO held open on a spare fd (commands
#   via lp_cmd), console in $RUNDIR/NAME/out and debug log in $RUNDIR/NAME/log. Lifetime capped.
#   LP_RC_EXTRA (optional): text appended to the rc copy, e.g. "$(linphone_codec_sections PCMU)".
#   LP_HOME (optional): HOME for linphonec instead of $RUNDIR/NAME, kept across runs; linphonec
#   keeps its ZRTP identity and retained secrets in $HOME/.linphone-zidcache.
linphone_start() {
  local name=$1 who=$2 tr=$3 enc=$4 secs=$5 port=5060 d=$RUNDIR/$1 fd
  shift 5
  [ "$tr" = tls ] && port=5061
  rm -rf "$d"
  mkdir -p "$d/.local/share/linphone"
  sed -e "s/^media_encryption=.*/media_encryption=$enc/" \
    -e "s/^media_encryption_mandatory=.*/media_encryption_mandatory=$([ "$enc" = none ] && echo 0 || echo 1)/" \
    -e "s#^reg_proxy=.*#reg_proxy=<sip:127.0.0.1:$port;transport=$tr>#" \
    -e "s#^reg_route=.*#reg_route=<sip:127.0.0.1:$port;transport=$tr;lr>#" \
    "$INTEROP_DIR/linphone/linphone-$who.rc" >"$d/rc"
  [ -n "${LP_RC_EXTRA:-}" ] && printf '%s\n' "$LP_RC_EXTRA" >>"$d/rc"
  mkfifo "$d/in"
  exec {fd}<>"$d/in"
  LP_FD[$name]=$fd
  [ -n "${LP_HOME:-}" ] && mkdir -p "$LP_HOME/.local/share/linphone"
  HOME=${LP_HOME:-$d} timeout -k 2 "$secs" linphonec -c "$d/rc" -d 6 -l "$d/log" "$@" <"$d/in" >"$d/out" 2>&1 &
  LP_PID[$name]=$!
  PIDS+=("$!")
  # no sound card on CI machines: play/record wav files instead
  lp_cmd "$name" "soundcard use files"
  lp_cmd "$name" "play /usr/share/sounds/linphone/hello8000.wav"
  lp_cmd "$name" "record $d/rec.wav"
}
# linphone_codec_sections MIME: [audio_codec_N] rc sections with only MIME (opus, PCMU, PCMA...)
# enabled. Every codec linphonec 5.1 knows is listed: unlisted ones come back with their defaults.
linphone_codec_sections() {
  local i=0 m r c
  while read -r m r c; do
    printf '\n[audio_codec_%d]\nmime=%s\nrate=%s\nchannels=%s\nenabled=%d\n' "$i" "$m" "$r" "$c" \
      "$([ "$m" = "$1" ] && echo 1 || echo 0)"
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
# lp_cmd NAME COMMAND: one console command to linphonec NAME.
lp_cmd() { echo "$2" >&"${LP_FD[$1]}"; }
# linphone_registered NAME SECONDS
linphone_registered() { wait_for "$RUNDIR/$1/log" 'to \[LinphoneRegistrationOk\]' "$2"; }
# linphone_stop NAME: "quit", then TERM/KILL if it does not exit within 5 s.
linphone_stop() {
  local pid=${LP_PID[$1]}
  lp_cmd "$1" quit 2>/dev/null
  wait_pid "$pid" 5 >/dev/null 2>&1
  [ $? = 255 ] && stop_pid "$pid"
  local fd=${LP_FD[$1]}
  exec {fd}>&- 2>/dev/null
  return 0
}

# sipp_not_registered USER: 0 if kamailio answers 404 for sip:USER@127.0.0.1 (no binding left).
sipp_not_registered() {
  timeout -k 2 20 sipp 127.0.0.1:5060 "${SIPP_ARGS[@]}" -sf "$SIPP_DIR/options-unregistered.xml" \
    -s "$1" -au 1002 -ap pw1002 -p 5089 -t u1 -message_file "$RUNDIR/sipp-unreg-$1.log" >/dev/null 2>&1
}

# speech_and_kamailio_up: checks $SIPHER, makes the test speech (short for side A; side B gets
# sentences 4-6 of the long one, so each direction carries different speech) and starts kamailio.
# Sets SP48 SP8 (A) and SPB48 SPB16 SPB8 (B). Records the failure and returns 1 if any step fails.
speech_and_kamailio_up() {
  if [ ! -x "$SIPHER" ]; then
    fail "sipher binary present" "$SIPHER not found; build it with cargo build"
    return 1
  fi
  if ! { "$REPO_DIR/scripts/bench/make-speech.sh" "$RUNDIR/speech" short \
    && "$REPO_DIR/scripts/bench/make-speech.sh" "$RUNDIR/speech" long; } >"$RUNDIR/speech.txt" 2>&1; then
    fail "test speech made (espeak-ng, sox)" "$(tail -3 "$RUNDIR/speech.txt" | paste -sd'|' -)"
    return 1
  fi
  SP48=$RUNDIR/speech/speech-short-48k.wav
  SP8=$RUNDIR/speech/speech-short-8k.wav
  local r
  for r in 48 16 8; do   # B: sentences 4-6 of the long speech, 10.2 s .. 20.2 s (pauses there)
    sox -D "$RUNDIR/speech/speech-long-${r}k.wav" "$RUNDIR/speech/speech-b-${r}k.wav" trim 10.2 10.0 \
      2>>"$RUNDIR/speech.txt"
  done
  SPB48=$RUNDIR/speech/speech-b-48k.wav
  SPB16=$RUNDIR/speech/speech-b-16k.wav
  SPB8=$RUNDIR/speech/speech-b-8k.wav
  if ! kamailio_up; then
    fail "kamailio starts" "see $RUNDIR/kamailio-start.txt"
    return 1
  fi
}
