#!/bin/bash
# Stop the kamailio that start-kamailio.sh started under $RUNDIR (by its PID only).
set -u
: "${RUNDIR:?set RUNDIR to the directory start-kamailio.sh printed}"
P=$RUNDIR/kamailio/kamailio.pid
[ -f "$P" ] || { echo "no pid file $P"; exit 0; }
PID=$(cat "$P")
if kill -0 "$PID" 2>/dev/null; then
  kill "$PID"
  for _ in $(seq 1 25); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$PID" 2>/dev/null && kill -9 "$PID"
fi
rm -f "$P"; echo "kamailio stopped"
