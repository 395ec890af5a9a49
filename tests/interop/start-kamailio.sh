#!/bin/bash
# Start kamailio (registrar/proxy, kamailio.cfg here) on 127.0.0.1: UDP+TCP 5060, TLS 5061.
# Runtime files (self-signed cert with SAN IP:127.0.0.1, tls.cfg, pid, log) go to $RUNDIR/kamailio;
# RUNDIR defaults to a fresh directory under /tmp, printed as "RUNDIR=..." so that
# `RUNDIR=... ./stop-kamailio.sh` can stop it again (by PID only).
# Log lines the tests look for: "REQ <method> <ruri> from <ip>:<port>/<proto> (fU=<user>)",
# "REGISTERED sip:<user>@127.0.0.1 contact=... from ...", "AUTH REGISTER failed for <user> ...".
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
RUNDIR=${RUNDIR:-$(mktemp -d /tmp/sipher-interop.XXXXXX)}
K=$RUNDIR/kamailio
mkdir -p "$K"
echo "RUNDIR=$RUNDIR"
if [ -f "$K/kamailio.pid" ] && kill -0 "$(cat "$K/kamailio.pid")" 2>/dev/null; then
  echo "kamailio already running, pid $(cat "$K/kamailio.pid")"; exit 0
fi
# someone else (another kamailio, a system service) on our ports would make every test fail oddly
if ss -Hlnu 'sport = :5060' | grep -q . || ss -Hlnt '( sport = :5060 or sport = :5061 )' | grep -q .; then
  echo "port 5060/5061 already in use on this machine:" >&2
  ss -Hlnptu '( sport = :5060 or sport = :5061 )' >&2
  exit 1
fi
# Self-signed server certificate (SAN IP:127.0.0.1) that clients trust directly via ca_file.
# It must say CA:FALSE: `openssl req -x509` marks it as a CA by default, and webpki (rustls)
# then refuses it as a server certificate (CaUsedAsEndEntity).
if [ ! -f "$K/cert.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
    -keyout "$K/key.pem" -out "$K/cert.pem" -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null
fi
cat > "$K/tls.cfg" <<TLS
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $K/key.pem
certificate = $K/cert.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
TLS
# syntax check first: a config error is then reported clearly instead of as a bind timeout
kamailio -c -f "$HERE/kamailio.cfg" -A "TLSCFG=\"$K/tls.cfg\"" >"$K/check.log" 2>&1 \
  || { cat "$K/check.log" >&2; exit 1; }
# -DD: main process stays in the foreground so $! is the PID to kill; -E: log to stderr;
# -Y: runtime dir of our own instead of /run/kamailio
nohup kamailio -DD -E -f "$HERE/kamailio.cfg" -A "TLSCFG=\"$K/tls.cfg\"" \
   -Y "$K" -m 64 -M 8 >"$K/kamailio.log" 2>&1 </dev/null &
echo $! > "$K/kamailio.pid"
for _ in $(seq 1 50); do   # up to 10 s until UDP 5060 and TLS 5061 are bound
  if ss -Hlnu 'sport = :5060' | grep -q . && ss -Hlnt 'sport = :5061' | grep -q .; then
    echo "kamailio up, pid $(cat "$K/kamailio.pid"), log $K/kamailio.log"; exit 0
  fi
  kill -0 "$(cat "$K/kamailio.pid")" 2>/dev/null \
    || { echo "kamailio died:" >&2; tail -20 "$K/kamailio.log" >&2; exit 1; }
  sleep 0.2
done
echo "kamailio did not bind in time" >&2; tail -20 "$K/kamailio.log" >&2
kill "$(cat "$K/kamailio.pid")" 2>/dev/null; exit 1
