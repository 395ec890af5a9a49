#!/usr/bin/env python3
"""Score a degraded speech recording against its reference with PESQ (ITU-T P.862, `pesq` package).

Usage: score.py REFERENCE.wav DEGRADED.wav [--mode wb|nb] [--max-lag S] [--json]

Both files are converted with sox to mono 16-bit at 16 kHz (wb, P.862.2) or 8 kHz (nb, P.862.1).
The degraded file (a call recording: it usually starts before the far end's speech arrives) is
aligned to the reference by the cross-correlation peak, searched over -1 s .. +max-lag s (default
10), then cut to the reference's length (zero-padded if short). PESQ then does its own
per-utterance alignment, so delay changes inside the call are its business.

Prints `MOS-LQO 3.87  (wb, offset 412 ms, ...)`, or with --json one object with mos, mode, offset_ms
(the estimated delay from the start of the degraded file to the start of the reference speech:
the mouth-to-ear delay when both ends started their media at the same moment), the
correlation peak (0..1; under ~0.3 the alignment is doubtful), and active-level ratio.
Exit status: 0 scored, 2 usage, 3 could not score (silent recording, no utterances)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np
from pesq import pesq


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('reference')
    ap.add_argument('degraded')
    ap.add_argument('--mode', choices=('wb', 'nb'), default='wb')
    ap.add_argument('--max-lag', type=float, default=10.0, help='seconds')
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    fs = 16000 if a.mode == 'wb' else 8000
    try:
        res = score(a.reference, a.degraded, a.mode, fs, a.max_lag)
    except ScoreError as e:
        out = dict(mos=None, mode=a.mode, error=str(e))
        print(json.dumps(out) if a.json else f'MOS-LQO n/a  ({a.mode}: {e})')
        return 3
    if a.json:
        print(json.dumps(res))
    else:
        print(f"MOS-LQO {res['mos']:.2f}  ({a.mode}, offset {res['offset_ms']:.0f} ms, "
              f"corr {res['corr']:.2f}, level {res['level_db']:+.1f} dB)")
    return 0


class ScoreError(Exception):
    pass


def score(ref_path, deg_path, mode, fs, max_lag_s):
    ref = load(ref_path, fs)
    deg = load(deg_path, fs)
    if rms(deg) < 1e-4:
        raise ScoreError('degraded recording is silent')
    lag, corr = best_lag(ref, deg, int(-1.0 * fs), int(max_lag_s * fs))
    if lag >= 0:
        aligned = deg[lag:lag + len(ref)]
    else:
        aligned = np.concatenate([np.zeros(-lag), deg[:len(ref) + lag]])
    if len(aligned) < len(ref):
        aligned = np.concatenate([aligned, np.zeros(len(ref) - len(aligned))])
    try:
        mos = float(pesq(fs, ref, aligned, mode))
    except Exception as e:  # pesq raises its own NoUtterancesError / InvalidSampleRateError
        raise ScoreError(f'pesq: {type(e).__name__}: {e}') from e
    return dict(mos=round(mos, 3), mode=mode, offset_ms=round(lag * 1000.0 / fs, 1),
                corr=round(corr, 3),
                level_db=round(20 * np.log10(max(rms(aligned), 1e-9) / rms(ref)), 1),
                ref_s=round(len(ref) / fs, 2), deg_s=round(len(deg) / fs, 2))


def load(path, fs):
    """Any WAV sox reads -> float64 mono at fs, in [-1, 1)."""
    if not os.path.exists(path):
        raise ScoreError(f'{path}: no such file')
    with tempfile.TemporaryDirectory() as d:
        tmp = os.path.join(d, 'x.wav')
        r = subprocess.run(['sox', '-D', '-V1', path, '-r', str(fs), '-c', '1', '-b', '16',
                            '-e', 'signed-integer', tmp, 'rate', '-v'],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise ScoreError(f'sox could not read {path}: {r.stderr.strip()}')
        with wave.open(tmp, 'rb') as w:
            raw = w.readframes(w.getnframes())
    x = np.frombuffer(raw, dtype='<i2').astype(np.float64) / 32768.0
    if len(x) == 0:
        raise ScoreError(f'{path}: empty')
    return x


def rms(x):
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def best_lag(ref, deg, min_lag, max_lag):
    """Lag L (samples) maximising sum(ref[n] * deg[n + L]) for min_lag <= L <= max_lag, and the
    normalised peak. Full cross-correlation by FFT: the files are at most a few minutes long."""
    n = len(ref) + len(deg) - 1
    size = 1 << (n - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(deg, size) * np.conj(np.fft.rfft(ref, size)), size)
    # xc[k] is the correlation at lag k for k >= 0, and at lag k - size for negative lags.
    lags = np.arange(size)
    lags[lags > size // 2] -= size
    ok = (lags >= min_lag) & (lags <= max_lag) & (lags < len(deg)) & (lags > -len(ref))
    if not ok.any():
        raise ScoreError('recording too short to align')
    idx = np.flatnonzero(ok)
    best = idx[np.argmax(xc[idx])]
    lag = int(lags[best])
    seg = deg[max(lag, 0):max(lag, 0) + len(ref)]
    denom = np.sqrt(np.sum(ref * ref) * np.sum(seg * seg))
    return lag, float(xc[best] / denom) if denom > 0 else 0.0


if __name__ == '__main__':
    sys.exit(main())
