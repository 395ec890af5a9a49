//! Audio devices: one trait for capture and playout; WAV files, null, and (on Android) Oboe.
