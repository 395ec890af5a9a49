#!/usr/bin/env python3
"""Receive-side voice stats from `sipher answer --json` output, as one JSON object in the same
keys as linphone-stats.py where they mean the same: received / lost / late packets and concealed /
played frames from the last {"event":"quality"} line, and the jitter buffer delay (jb_ms_mean,
jb_ms_max, jb_target_ms_mean) and RTCP inter-arrival jitter over all quality lines.
Usage: sipher-stats.py ANSWER.out"""
import json
import sys


def main():
    q = []
    for line in open(sys.argv[1], errors='replace'):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if isinstance(ev, dict) and ev.get('event') == 'quality':
            q.append(ev)
    out = {}
    if q:
        last = q[-1]
        for key, src in (('received', 'packets_received'), ('lost', 'lost'), ('late', 'late'),
                         ('concealed', 'concealed'), ('played', 'played'),
                         ('cumulative_lost', 'cumulative_lost'), ('rtcp_mos', 'mos')):
            if last.get(src) is not None:
                out[key] = last[src]
        for key, src in (('jb_ms', 'jb_delay_ms'), ('jb_target_ms', 'jb_target_ms'),
                         ('rr_jitter_ms', 'jitter_ms')):
            v = [float(e[src]) for e in q if isinstance(e.get(src), (int, float))]
            if v:
                out[key + '_mean'] = round(sum(v) / len(v), 1)
                out[key + '_max'] = round(max(v), 1)
        out['quality_events'] = len(q)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
