#!/usr/bin/env python3
"""Userspace netem for a network namespace whose kernel lacks sch_netem.
Packets leaving `lo` (OUTPUT chain, i.e. once per direction, like a qdisc on lo) are
queued to NFQUEUE by an iptables rule (see netns.sh), dropped there, and re-sent
after the emulated delay through a raw socket carrying SO_MARK (so the rule skips them).
Emulates: delay + normal jitter (tfifo: reordering allowed, as netem), random loss,
Gilbert-Elliott loss (netem 'gemodel p r 1-h 1-k' semantics), rate (netem's rate
algorithm: serialisation time added, one shared queue), queue limit (packets).
Run INSIDE the namespace:  ip netns exec NS python3 netem-nfq.py --delay 100 --jitter 20 --gemodel 1,30,100,0
Stats are printed on SIGTERM/SIGINT to stderr and to --stats FILE.
Copied from the shared netem recipe; the project carries its own copy (used by scripts/bench/netns.sh).
The loss/jitter RNG is seeded (--seed, default 1) so a profile drops the same packet indices each run."""
import argparse, heapq, random, signal, socket, struct, sys, threading, time, json
from netfilterqueue import NetfilterQueue

ap = argparse.ArgumentParser()
ap.add_argument('--queue', type=int, default=0)
ap.add_argument('--mark', type=lambda s: int(s, 0), default=0x77)
ap.add_argument('--delay', type=float, default=0.0, help='ms')
ap.add_argument('--jitter', type=float, default=0.0, help='ms (sigma of the normal distribution)')
ap.add_argument('--loss', type=float, default=0.0, help='random loss, percent')
ap.add_argument('--gemodel', default=None, help='p,r,1-h,1-k in percent (netem order)')
ap.add_argument('--rate', type=float, default=0.0, help='kbit/s, 0 = unlimited')
ap.add_argument('--limit', type=int, default=1000, help='queue limit, packets (netem default 1000)')
ap.add_argument('--l2', type=int, default=14, help='bytes added to IP length for rate (lo has a 14-byte Ethernet header)')
ap.add_argument('--seed', type=int, default=1)
ap.add_argument('--stats', default=None)
a = ap.parse_args()
rng = random.Random(a.seed)
ge = [float(x) / 100 for x in a.gemodel.split(',')] if a.gemodel else None
ge_bad = False
st = dict(seen=0, lost=0, overlimit=0, sent=0, reordered=0, max_qdelay_ms=0.0)
heap = []; seq = 0; last_tts = 0.0; cv = threading.Condition()
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
raw.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, a.mark)

def lost():
    global ge_bad
    if ge:
        p, r, one_minus_h, one_minus_k = ge
        if not ge_bad:
            if rng.random() < p: ge_bad = True
            return rng.random() < one_minus_k
        else:
            if rng.random() < r: ge_bad = False
            return rng.random() < one_minus_h
    return a.loss > 0 and rng.random() * 100 < a.loss

def on_packet(pkt):
    global seq, last_tts
    data = bytearray(pkt.get_payload()); pkt.drop(); st['seen'] += 1
    if lost(): st['lost'] += 1; return
    now = time.monotonic()
    delay = (a.delay + (rng.gauss(0, a.jitter) if a.jitter else 0)) / 1000.0
    with cv:
        if len(heap) >= a.limit: st['overlimit'] += 1; return
        if a.rate > 0:   # netem_enqueue(): last queued packet is the reference point
            if heap and last_tts > now:
                delay = max(0.0, delay - (last_tts - now)); now = last_tts
            delay += (len(data) + a.l2) * 8 / (a.rate * 1000.0)
        tts = now + max(0.0, delay)
        if a.rate > 0: last_tts = tts
        if data[9] == 17 and len(data) >= 28:           # UDP: checksum 0 = none (lo had it offloaded)
            ihl = (data[0] & 15) * 4; data[ihl + 6:ihl + 8] = b'\0\0'
        heapq.heappush(heap, (tts, seq, bytes(data))); seq += 1
        st['max_qdelay_ms'] = max(st['max_qdelay_ms'], (tts - time.monotonic()) * 1000)
        cv.notify()

def sender():
    last_seq = -1
    while True:
        with cv:
            while not heap: cv.wait()
            tts, s, data = heap[0]; dt = tts - time.monotonic()
            if dt > 0: cv.wait(timeout=dt); continue
            heapq.heappop(heap)
        if s < last_seq: st['reordered'] += 1
        last_seq = max(last_seq, s)
        dst = socket.inet_ntoa(data[16:20])
        try: raw.sendto(data, (dst, 0)); st['sent'] += 1
        except OSError as e: print('send error', e, file=sys.stderr)

def stop(*_):
    s = json.dumps(st); print('netem-nfq stats', s, file=sys.stderr)
    if a.stats: open(a.stats, 'w').write(s + '\n')
    sys.stdout.flush(); sys.stderr.flush(); import os; os._exit(0)
signal.signal(signal.SIGTERM, stop); signal.signal(signal.SIGINT, stop)
threading.Thread(target=sender, daemon=True).start()
nfq = NetfilterQueue(); nfq.bind(a.queue, on_packet, max_len=4096)
print('netem-nfq ready', vars(a), file=sys.stderr, flush=True)
s = socket.fromfd(nfq.get_fd(), socket.AF_UNIX, socket.SOCK_STREAM)
try: nfq.run_socket(s)
finally: stop()
