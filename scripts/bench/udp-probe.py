#!/usr/bin/env python3
"""UDP ping-pong on 127.0.0.1 to check an impairment profile: RTT median/p5/p95, round-trip loss.
Usage (inside the namespace): udp-probe.py [count=500] [interval_s=0.02] [--json]
The probe packets are 108 bytes of UDP payload, close to an Opus/PCMU RTP packet."""
import json, socket, statistics, sys, threading, time

args = [x for x in sys.argv[1:] if not x.startswith('--')]
as_json = '--json' in sys.argv
n = int(args[0]) if args else 500
iv = float(args[1]) if len(args) > 1 else 0.02
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); srv.bind(('127.0.0.1', 0))
port = srv.getsockname()[1]


def echo():
    while True:
        d, addr = srv.recvfrom(2048); srv.sendto(d, addr)


threading.Thread(target=echo, daemon=True).start()
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.bind(('127.0.0.1', 0)); c.settimeout(0.01)
sent = {}; rtt = []; got = set()


def rx():
    while True:
        try:
            d, _ = c.recvfrom(2048)
        except socket.timeout:
            continue
        except OSError:
            return
        i = int(d[:8])
        if i not in got:  # a duplicate would count twice otherwise
            got.add(i); rtt.append((time.monotonic() - sent[i]) * 1000)


threading.Thread(target=rx, daemon=True).start()
for i in range(n):
    sent[i] = time.monotonic(); c.sendto(b'%08d' % i + b'x' * 100, ('127.0.0.1', port)); time.sleep(iv)
time.sleep(2.0)  # the worst profile's RTT tail is well under 1.5 s
q = sorted(rtt); k = len(q)
res = dict(sent=n, received=k, loss_pct=round(100 * (n - k) / n, 1),
           rtt_p5=round(q[k // 20], 1) if k else None,
           rtt_median=round(statistics.median(q), 1) if k else None,
           rtt_p95=round(q[k * 19 // 20], 1) if k else None)
if as_json:
    print(json.dumps(res))
else:
    print(f"sent {n} got {k} loss(round trip) {res['loss_pct']}%  RTT median {res['rtt_median']} ms "
          f"p5 {res['rtt_p5']} p95 {res['rtt_p95']}")
