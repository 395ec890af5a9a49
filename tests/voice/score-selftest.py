#!/usr/bin/env python3
"""Self-test of scripts/bench/score.py (no network, no sipher): the reference against itself, against
a delayed copy, against copies with noise / lost 40 ms chunks / G.711 µ-law, and a silent file.
Prints PASS/FAIL lines and `N passed, M failed`; exit 1 if anything failed. Takes ≈20 s."""
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, 'scripts', 'bench')
passed = failed = 0


def check(name, ok, detail):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"{'PASS' if ok else 'FAIL'} {name}   [{detail}]", flush=True)


def write(path, x, fs):
    with wave.open(path, 'wb') as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(fs)
        w.writeframes((np.clip(x, -1, 32767 / 32768) * 32768).astype('<i2').tobytes())


def read(path):
    with wave.open(path, 'rb') as w:
        return np.frombuffer(w.readframes(w.getnframes()), '<i2') / 32768.0, w.getframerate()


def score(ref, deg, *extra):
    r = subprocess.run([sys.executable, os.path.join(BENCH, 'score.py'), ref, deg, '--json', *extra],
                       capture_output=True, text=True, timeout=120)
    try:
        return r.returncode, json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return r.returncode, {'error': r.stderr.strip()[-300:]}


def main():
    d = tempfile.mkdtemp(prefix='sipher-score-')
    subprocess.run([os.path.join(BENCH, 'make-speech.sh'), d, 'short'], check=True,
                   capture_output=True, timeout=60)
    ref = os.path.join(d, 'speech-short-16k.wav')
    x, fs = read(ref)
    rng = np.random.default_rng(7)  # fixed seed: the same noise every run

    rc, s = score(ref, ref)
    base = s.get('mos') or 0
    check('self wb >= 4.4', rc == 0 and base >= 4.4, s)

    delayed = os.path.join(d, 'delayed.wav')
    write(delayed, np.concatenate([np.zeros(int(0.35 * fs)), x, np.zeros(fs)]), fs)
    rc, s = score(ref, delayed)
    check('delayed 350 ms: offset found, score kept', rc == 0 and abs(s['offset_ms'] - 350) <= 2
          and s['mos'] >= 4.3, s)

    # 48 kHz recording starting 1.2 s before the speech, as a call recorder writes it.
    rec48 = os.path.join(d, 'rec48.wav')
    subprocess.run(['sox', '-D', delayed, '-r', '48000', rec48, 'pad', '0.85', '0', 'rate', '-v'],
                   check=True, timeout=60)
    rc, s = score(ref, rec48)
    check('48 kHz recording, 1.2 s lead', rc == 0 and abs(s['offset_ms'] - 1200) <= 2
          and s['mos'] >= 4.3, s)

    noisy = os.path.join(d, 'noisy.wav')
    sig = np.sqrt(np.mean(x ** 2))
    write(noisy, x + rng.normal(0, sig / 10 ** (10 / 20), len(x)), fs)  # SNR 10 dB
    rc, s = score(ref, noisy)
    check('noise at 10 dB SNR scores lower', rc == 0 and s['mos'] < base - 1.0, s)

    holes = os.path.join(d, 'holes.wav')
    y = x.copy()
    for start in range(int(0.1 * fs), len(y), int(0.2 * fs)):
        y[start:start + int(0.04 * fs)] = 0  # 20 % of the time lost, in 40 ms chunks
    write(holes, y, fs)
    rc, s = score(ref, holes)
    check('lost 40 ms chunks score lower', rc == 0 and s['mos'] < base - 1.0, s)

    ulaw8 = os.path.join(d, 'ulaw8.wav')
    subprocess.run(['sox', '-D', os.path.join(d, 'speech-short-8k.wav'), '-e', 'u-law',
                    os.path.join(d, 'u.wav')], check=True, timeout=60)
    subprocess.run(['sox', '-D', os.path.join(d, 'u.wav'), '-e', 'signed-integer', '-b', '16',
                    ulaw8], check=True, timeout=60)
    rc, s = score(os.path.join(d, 'speech-short-8k.wav'), ulaw8, '--mode', 'nb')
    check('G.711 u-law nb between 3.8 and 4.55', rc == 0 and 3.8 <= s['mos'] <= 4.55, s)

    silent = os.path.join(d, 'silent.wav')
    write(silent, np.zeros(len(x)), fs)
    rc, s = score(ref, silent)
    check('silent recording: exit 3, no score', rc == 3 and s.get('mos') is None, s)

    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
