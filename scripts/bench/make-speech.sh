#!/bin/bash
# Deterministic English test speech for the voice bench.
# Usage: make-speech.sh [OUTDIR] [long|short]
#   long (default): eight Harvard sentences (IEEE 1969 lists), alternating two espeak-ng voices
#                   (en-us male, en-gb+f3 female), 0.7 s pauses, ≈27.7 s.
#   short:          the first three sentences, ≈10.7 s (tests/voice/short-impairment.sh).
# Writes OUTDIR/speech-{long|short}-{48k,16k,8k}.wav: mono 16-bit PCM; prints their paths.
# Same espeak-ng/sox versions → byte-identical files (sox runs without dither: -D).
set -euo pipefail
OUT=${1:-/tmp/sipher-bench/speech}
KIND=${2:-long}
mkdir -p "$OUT"
SENTENCES=(
  "The birch canoe slid on the smooth planks."
  "Glue the sheet to the dark blue background."
  "It's easy to tell the depth of a well."
  "These days a chicken leg is a rare dish."
  "Rice is often served in round bowls."
  "The juice of lemons makes fine punch."
  "The box was thrown beside the parked truck."
  "Four hours of steady work faced us."
)
VOICES=("en-us" "en-gb+f3")
case $KIND in
  long) N=${#SENTENCES[@]} ;;
  short) N=3 ;;
  *) echo "make-speech: kind must be long or short" >&2; exit 2 ;;
esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
parts=()
sox -D -n -r 48000 -c 1 -b 16 "$TMP/pause.wav" trim 0 0.7
sox -D -n -r 48000 -c 1 -b 16 "$TMP/lead.wav" trim 0 0.5
parts+=("$TMP/lead.wav")
for ((i = 0; i < N; i++)); do
  v=${VOICES[$((i % 2))]}
  espeak-ng -v "$v" -s 150 -w "$TMP/s$i-raw.wav" "${SENTENCES[$i]}"
  # espeak-ng writes 22050 Hz; bring every sentence to 48 kHz before joining.
  sox -D "$TMP/s$i-raw.wav" -r 48000 -c 1 -b 16 "$TMP/s$i.wav" rate -v
  parts+=("$TMP/s$i.wav" "$TMP/pause.wav")
done
# -1 dBFS peak, then the three rates; a telephone path starts from a band-limited 48k master.
sox -D "${parts[@]}" "$TMP/joined.wav"
sox -D "$TMP/joined.wav" -r 48000 -c 1 -b 16 "$OUT/speech-$KIND-48k.wav" gain -n -1
for r in 16 8; do
  sox -D "$OUT/speech-$KIND-48k.wav" -r ${r}000 -c 1 -b 16 "$OUT/speech-$KIND-${r}k.wav" rate -v
done
for r in 48 16 8; do echo "$OUT/speech-$KIND-${r}k.wav"; done
