#!/usr/bin/env python3
"""Rewrites the generated tables of BENCHMARKS.md from the bench's JSON results.
Usage: render.py BENCHMARKS.md RESULTS_DIR
RESULTS_DIR holds probe-PROFILE.json (udp-probe.py --json plus emulator counters) and
{linphone,sipher}-PROFILE-CODEC/result.json. Each table sits between
<!-- bench:NAME:begin --> and <!-- bench:NAME:end --> (NAME = probe, voice, stats); the text around
them is kept."""
import glob
import json
import os
import re
import sys

PROFILES = ['clean', '3g-good', '3g-typical', '3g-bad']
CODECS = ['opus', 'pcmu']


def main():
    md_path, res = sys.argv[1], sys.argv[2]
    md = open(md_path).read()
    md = replace(md, 'probe', probe_table(res))
    md = replace(md, 'voice', voice_table(res))
    md = replace(md, 'stats', stats_table(res))
    open(md_path, 'w').write(md)


def load(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return None


def replace(md, name, body):
    pat = re.compile(rf'(<!-- bench:{name}:begin -->\n).*?(<!-- bench:{name}:end -->)', re.S)
    if not pat.search(md):
        return md + f'\n<!-- bench:{name}:begin -->\n{body}<!-- bench:{name}:end -->\n'
    return pat.sub(lambda m: m.group(1) + body + m.group(2), md)


def probe_table(res):
    rows = ['| profile | probes sent (interval) | replies | round-trip loss | RTT p5 | RTT median '
            '| RTT p95 | emulator: one-way packets seen / dropped (%) / reordered |',
            '|---|---|---|---|---|---|---|---|']
    for p in PROFILES:
        r = load(os.path.join(res, f'probe-{p}.json'))
        if not r:
            rows.append(f'| {p} | not measured | | | | | | |')
            continue
        e = r.get('netem') or {}
        emu = (f"{e['seen']} / {e['lost']} ({100 * e['lost'] / max(e['seen'], 1):.1f} %) / "
               f"{e['reordered']}") if e.get('seen') else 'no emulator (no impairment)'
        rows.append(f"| {p} | {r['sent']} ({1000 * r.get('interval_s', 0.02):.0f} ms) | {r['received']} | {r['loss_pct']} % | {r['rtt_p5']} ms "
                    f"| {r['rtt_median']} ms | {r['rtt_p95']} ms | {emu} |")
    return '\n'.join(rows) + '\n'


def mos_cell(r):
    if not r:
        return 'not run'
    s = r.get('score') or {}
    if s.get('mos') is None:
        return 'no score: ' + str(s.get('error', '?'))[:90].replace('|', '/')
    # Under ~0.2 the correlation peak is noise (e.g. a saturated link): no offset to speak of.
    off = f"{s['offset_ms']:.0f} ms" if s.get('corr', 0) >= 0.2 else 'offset n/a'
    runs = r.get('runs')
    spread = (' runs ' + '/'.join(f'{m:.2f}' if m is not None else '-' for m in runs)
              if runs and len(runs) > 1 else '')
    return f"**{s['mos']:.2f}** ({off}){spread}"


def voice_table(res):
    rows = ['| profile | codec (PESQ mode) | Linphone MOS-LQO (offset) | Sipher MOS-LQO (offset) |',
            '|---|---|---|---|']
    for p in PROFILES:
        for c in CODECS:
            lp = load(os.path.join(res, f'linphone-{p}-{c}', 'result.json'))
            sp = load(os.path.join(res, f'sipher-{p}-{c}', 'result.json'))
            mode = 'wb' if c == 'opus' else 'nb'
            rows.append(f'| {p} | {c} ({mode}) | {mos_cell(lp)} | {mos_cell(sp)} |')
    return '\n'.join(rows) + '\n' + provenance(res)


def provenance(res):
    """One line per peer: when its cells ran, the load average then, and what was measured."""
    lines = []
    for peer in ('linphone', 'sipher'):
        metas = [r.get('meta') for r in (load(f) for f in
                 sorted(glob.glob(os.path.join(res, f'{peer}-*', 'result.json'))))
                 if r and isinstance(r.get('meta'), dict) and r['meta'].get('at')]
        if not metas:
            continue
        ats = sorted(m['at'] for m in metas)
        loads = sorted(float(m['load'].split()[0]) for m in metas if m.get('load'))
        what = (f"linphonec {metas[0].get('linphonec', '?')}" if peer == 'linphone' else
                f"`{metas[-1].get('binary', '?')}` built {metas[-1].get('built', '?')}, "
                f"repo at {metas[-1].get('repo_head', '?')}")
        lines.append(f"\n{peer}: {ats[0]} .. {ats[-1]}, {what}, 1-min load "
                     f"{loads[0]:.1f}..{loads[-1]:.1f}" if loads else f"\n{peer}: {ats[0]} .. {ats[-1]}, {what}")
    return ''.join(l + '\n' for l in lines)


def stats_table(res):
    rows = ['| peer | profile | codec | RTP received | lost | late | concealed (PLC/FEC) '
            '| jitter buffer mean / max | RTCP jitter mean | setup |',
            '|---|---|---|---|---|---|---|---|---|---|']
    for peer in ('linphone', 'sipher'):
        for p in PROFILES:
            for c in CODECS:
                r = load(os.path.join(res, f'{peer}-{p}-{c}', 'result.json'))
                if not r or not r.get('rtp'):
                    continue
                t = r['rtp']
                conc = (f"{t.get('opus_plc', '-')}/{t.get('opus_fec', '-')}" if peer == 'linphone'
                        else str(t.get('concealed', '-')))
                jit = t.get('far_rr_jitter_ms_mean', t.get('rr_jitter_ms_mean', '-'))
                rows.append(f"| {peer} | {p} | {c} | {t.get('received', '-')} | {t.get('lost', '-')} "
                            f"| {t.get('late', '-')} | {conc} | {t.get('jb_ms_mean', '-')} / "
                            f"{t.get('jb_ms_max', '-')} ms | {jit} ms | {r.get('setup_ms', '-')} ms |")
    return '\n'.join(rows) + '\n'


if __name__ == '__main__':
    main()
