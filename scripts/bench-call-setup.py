#!/usr/bin/env python3
"""Call setup time on loopback: `sipher call` -> `sipher answer`, peer to peer over UDP/TCP/TLS.

Setup time = the caller's "connected" event minus its "call_placed" event (both time-stamped by
the caller's clock, `t_ms`), i.e. INVITE sent -> 2xx received and ACK sent. Prints a table of
median / p95 / max over N calls per transport. Only loopback; every process is bounded.

    scripts/bench-call-setup.py [--calls N] [--sipher PATH]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_transport(sipher, transport, calls):
    port = free_port()
    answer = subprocess.Popen(
        [sipher, "answer", "--json", "--bind", f"127.0.0.1:{port}", "--transport", transport,
         "--max-calls", str(calls)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        # wait until it listens
        line = answer.stdout.readline()
        if '"listening"' not in line:
            raise RuntimeError(f"answerer did not start: {line!r}")
        times = []
        for _ in range(calls):
            extra = ["--insecure-tls"] if transport == "tls" else []
            uri = f"sip:bench@127.0.0.1:{port};transport={transport}"
            out = subprocess.run(
                [sipher, "call", uri, "--json", "--duration", "0.1", "--transport", transport,
                 "--timeout", "10"] + extra,
                capture_output=True, text=True, timeout=30)
            placed = connected = None
            for l in out.stdout.splitlines():
                ev = json.loads(l)
                if ev["event"] == "call_placed":
                    placed = ev["t_ms"]
                if ev["event"] == "call" and ev["state"] == "connected":
                    connected = ev["t_ms"]
            if placed is None or connected is None:
                raise RuntimeError(f"{transport}: call did not connect: {out.stdout} {out.stderr}")
            times.append(connected - placed)
        return times
    finally:
        try:
            answer.wait(timeout=10)
        except subprocess.TimeoutExpired:
            answer.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--sipher", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "sipher"))
    a = ap.parse_args()
    if not os.access(a.sipher, os.X_OK):
        sys.exit(f"{a.sipher} not found: cargo build --release --bin sipher")
    print(f"call setup on loopback, {a.calls} calls each, {a.sipher}")
    print(f"{'transport':<10} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for t in ["udp", "tcp", "tls"]:
        times = sorted(one_transport(a.sipher, t, a.calls))
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"{t:<10} {statistics.median(times):>10.1f} {p95:>8} {max(times):>8}")


if __name__ == "__main__":
    main()
