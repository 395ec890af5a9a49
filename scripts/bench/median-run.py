#!/usr/bin/env python3
"""Of several run directories of one bench cell (each with result.json), print the one whose MOS
is the median (runs without a score count as lowest), after adding "runs": [every MOS] to its
result.json. Usage: median-run.py DIR..."""
import json
import sys


def main():
    runs = []
    for d in sys.argv[1:]:
        try:
            r = json.load(open(d + '/result.json'))
        except (OSError, ValueError):
            continue
        mos = (r.get('score') or {}).get('mos')
        runs.append((mos if mos is not None else -1.0, d, r))
    if not runs:
        return 1
    runs.sort(key=lambda x: x[0])
    mos, d, r = runs[(len(runs) - 1) // 2]
    r['runs'] = [m if m >= 0 else None for m, _, _ in runs]
    json.dump(r, open(d + '/result.json', 'w'))
    print(d)
    return 0


if __name__ == '__main__':
    sys.exit(main())
