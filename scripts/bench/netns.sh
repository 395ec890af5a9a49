#!/bin/bash
# Network namespace with an impaired loopback, for the voice bench (scripts/bench/*).
# Usage: netns.sh up                 create namespace $NS (default sipherbench), lo up
#        netns.sh profile NAME       apply profile: clean | 3g-good | 3g-typical | 3g-bad
#        netns.sh probe [N] [IV]     UDP ping-pong inside the namespace (RTT percentiles, loss)
#        netns.sh clear              remove impairment
#        netns.sh stats              stop the userspace emulator and print its counters (JSON)
#        netns.sh down               clear + delete the namespace
# Impairment goes on the namespace's lo only: kernel netem if the kernel has sch_netem, else
# the userspace emulator netem-nfq.py fed by an iptables NFQUEUE rule on the namespace's OUTPUT
# chain (-o lo), i.e. once per direction. Only UDP is impaired (SIP over UDP and RTP both are).
# Profiles (per direction): 3g-good 75±10 ms, 1 % random loss; 3g-typical 100±20 ms,
# Gilbert-Elliott p=1 % r=30 % (≈3 % bursty loss); 3g-bad 200±40 ms, GE p=3 % r=30 % (≈9 %),
# 64 kbit/s shared by both directions (they cross the same lo queue).
# Needs root, iproute2, iptables, python3 with NetfilterQueue (scripts/install-deps.sh).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
NS=${NS:-sipherbench}
ST=${NETEM_STATE:-/tmp/$NS-netem}
mkdir -p "$ST"
nsx() { ip netns exec "$NS" "$@"; }

profile_args() { # netem-style args for each profile (kernel netem)
  case $1 in
    clean) echo "" ;;
    3g-good) echo "delay 75ms 10ms distribution normal loss 1%" ;;
    3g-typical) echo "delay 100ms 20ms distribution normal loss gemodel 1% 30% 100% 0%" ;;
    3g-bad) echo "delay 200ms 40ms distribution normal loss gemodel 3% 30% 100% 0% rate 64kbit" ;;
    *) echo "unknown profile $1" >&2; return 1 ;;
  esac
}
nfq_args() { # the same profiles for netem-nfq.py
  case $1 in
    clean) echo "" ;;
    3g-good) echo "--delay 75 --jitter 10 --loss 1" ;;
    3g-typical) echo "--delay 100 --jitter 20 --gemodel 1,30,100,0" ;;
    3g-bad) echo "--delay 200 --jitter 40 --gemodel 3,30,100,0 --rate 64" ;;
  esac
}
clear_imp() {
  nsx tc qdisc del dev lo root 2>/dev/null
  if [ -f "$ST/nfq.pid" ]; then
    kill "$(cat "$ST/nfq.pid")" 2>/dev/null
    sleep 0.3
    rm -f "$ST/nfq.pid"
  fi
  nsx iptables -t mangle -F OUTPUT 2>/dev/null
  true
}

case ${1:-} in
  up)
    ip netns list | grep -qw "$NS" || ip netns add "$NS" || exit 1
    nsx ip link set lo up
    nsx ip -br addr show lo
    ;;
  profile)
    P=${2:?profile}
    ARGS=$(profile_args "$P") || exit 1
    clear_imp
    rm -f "$ST/stats.json"
    echo "$P" >"$ST/profile"
    [ -z "$ARGS" ] && { echo "profile clean: no impairment"; exit 0; }
    # shellcheck disable=SC2086 # ARGS is a word list on purpose
    if nsx tc qdisc add dev lo root netem $ARGS 2>/dev/null; then
      echo "kernel netem: $(nsx tc qdisc show dev lo)"
    else
      MARK=0x77
      nsx iptables -t mangle -A OUTPUT -o lo -p udp -m mark ! --mark $MARK \
        -j NFQUEUE --queue-num 0 --queue-bypass || exit 1
      # The interpreter itself, not a pyenv shim: a shim costs seconds on a loaded machine.
      PY=$(python3 -c 'import sys; print(sys.executable)')
      # Three tries: about one start in five, right after the previous emulator was stopped, crawls
      # through its imports for 20 s and more (seen with strace: R state, slow syscalls, while
      # `ip netns exec` waits in synchronize_rcu_expedited); a fresh start then works at once.
      for try in 1 2 3; do
        # shellcheck disable=SC2046
        ip netns exec "$NS" timeout -k 2 "${NFQ_MAX_S:-1800}" "$PY" "$HERE/netem-nfq.py" \
          $(nfq_args "$P") --seed "${NETEM_SEED:-1}" --mark $MARK --stats "$ST/stats.json" \
          >"$ST/nfq.log" 2>&1 &
        echo $! >"$ST/nfq.pid"
        for _ in $(seq 1 150); do grep -qs 'netem-nfq ready' "$ST/nfq.log" && break; sleep 0.1; done
        grep -qs 'netem-nfq ready' "$ST/nfq.log" && break
        echo "netem-nfq did not start (try $try; alive: $(kill -0 "$(cat "$ST/nfq.pid")" 2>/dev/null && echo yes || echo no)):" >&2
        cat "$ST/nfq.log" >&2
        kill "$(cat "$ST/nfq.pid")" 2>/dev/null
        sleep 0.5
        [ $try = 3 ] && { clear_imp; exit 1; }
      done
      echo "userspace netem (no sch_netem in kernel): $(nfq_args "$P")  [pid $(cat "$ST/nfq.pid")]"
    fi
    ;;
  probe) nsx timeout 120 python3 "$HERE/udp-probe.py" "${@:2}" ;;
  clear) clear_imp; echo clean >"$ST/profile" ;;
  stats)
    # The emulator writes its counters when it exits, so this stops it (and the NFQUEUE rule).
    if [ -f "$ST/nfq.pid" ]; then
      kill "$(cat "$ST/nfq.pid")" 2>/dev/null && sleep 0.7
      rm -f "$ST/nfq.pid"
    fi
    nsx iptables -t mangle -F OUTPUT 2>/dev/null
    cat "$ST/stats.json" 2>/dev/null
    ;;
  down)
    clear_imp
    ip netns del "$NS" 2>/dev/null
    echo "namespace $NS deleted"
    ;;
  *) sed -n '2,9p' "$0"; exit 2 ;;
esac
