#!/usr/bin/env python3
"""Receive-side voice stats from a linphonec debug log (-d 6), as one JSON object:
received / lost / late / overflow packets (oRTP's end-of-call "AUDIO SESSION'S RTP STATISTICS"),
Opus PLC/FEC counts, the jitter buffer size, and the far end's RTCP inter-arrival jitter that mediastreamer's
quality indicator logs every ~5 s (mean and max over the call).
Usage: linphone-stats.py LOG"""
import json
import re
import sys


def main():
    text = open(sys.argv[1], errors='replace').read()
    out = {}
    blocks = text.split("AUDIO SESSION'S RTP STATISTICS")
    if len(blocks) > 1:
        b = blocks[-1][:3000]
        for key, pat in (('received', r'-received\s+(\d+) packets'),
                         ('lost', r'incoming cumulative lost\s+(-?\d+) packets'),
                         ('late', r'incoming received too late\s+(\d+) packets'),
                         ('overflow', r'incoming discarded \(queue overflow\)\s+(\d+) packets')):
            m = re.search(pat, b)
            if m:
                out[key] = int(m.group(1))
    m = re.findall(r'opus decoder stats: fec (\d+) packets - plc (\d+) packets', text)
    if m:
        out['opus_fec'], out['opus_plc'] = int(m[-1][0]), int(m[-1][1])
    for key, pat in (('jb_ms', r'Local current jitter buffer size:\s+([\d.]+)ms'),
                     ('far_rr_jitter_ms', r'Inter-arrival jitter:\s+([\d.]+)ms')):
        v = [float(x) for x in re.findall(pat, text)]
        if v:
            out[key + '_mean'] = round(sum(v) / len(v), 1)
            out[key + '_max'] = round(max(v), 1)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
