//! Audio devices: one trait for capture and playout; WAV files, null, and (on Android) Oboe.
//!
//! Everything here runs at [`DEVICE_RATE`], mono `i16`, in frames of [`FRAME_SAMPLES`] (20 ms).
//! These are engine-side objects: the per-call media session pulls a frame from an
//! [`AudioSource`] and pushes one to an [`AudioSink`] on every 20 ms tick.

pub mod wav;

#[cfg(all(target_os = "android", feature = "oboe"))]
pub mod oboe;

pub use wav::{WavSink, WavSource, WavSourceOptions};

use crate::media::codec::ResampleError;

/// The device sample rate: 48 kHz mono.
pub const DEVICE_RATE: u32 = 48_000;

/// Samples in one 20 ms device frame.
pub const FRAME_SAMPLES: usize = (DEVICE_RATE / 50) as usize;

/// Where captured audio comes from (microphone, file, generator).
pub trait AudioSource: Send {
    /// Fills `out` (one frame); returns false at end of stream (files).
    fn read_frame(&mut self, out: &mut [i16]) -> bool;
}

/// Where received audio goes (speaker, file, nowhere).
pub trait AudioSink: Send {
    /// Takes one frame of audio.
    fn write_frame(&mut self, pcm: &[i16]);
    /// Ends the stream (for files: writes what is buffered and fixes the header). Errors met by
    /// earlier `write_frame` calls are reported here.
    fn finish(&mut self) -> Result<(), AudioError>;
}

/// What can go wrong with an audio device or file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// Reading or writing the file failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The WAV file is malformed or could not be written.
    #[error("WAV: {0}")]
    Wav(String),
    /// A WAV layout this reader does not take (e.g. 0 channels, 64-bit samples).
    #[error("unsupported WAV format: {0}")]
    UnsupportedFormat(String),
    /// No resampler for the requested rate.
    #[error(transparent)]
    Rate(#[from] ResampleError),
    /// The audio device refused to open or start.
    #[error("audio device: {0}")]
    Device(String),
}

impl From<hound::Error> for AudioError {
    fn from(e: hound::Error) -> Self {
        match e {
            hound::Error::IoError(io) => AudioError::Io(io),
            hound::Error::Unsupported => AudioError::UnsupportedFormat("hound: unsupported".into()),
            other => AudioError::Wav(other.to_string()),
        }
    }
}

/// An endless source of silence.
#[derive(Debug, Default, Clone)]
pub struct NullSource;

impl AudioSource for NullSource {
    fn read_frame(&mut self, out: &mut [i16]) -> bool {
        out.fill(0);
        true
    }
}

/// A sink that discards audio and counts it.
#[derive(Debug, Default, Clone)]
pub struct NullSink {
    samples: u64,
}

impl NullSink {
    /// Samples written so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

impl AudioSink for NullSink {
    fn write_frame(&mut self, pcm: &[i16]) {
        self.samples += pcm.len() as u64;
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
}

/// A sine tone at [`DEVICE_RATE`], endless or for a number of samples; for tests.
#[derive(Debug, Clone)]
pub struct ToneSource {
    step: f64,
    phase: f64,
    amplitude: f64,
    remaining: Option<u64>,
}

impl ToneSource {
    /// An endless tone of `freq_hz` with peak `amplitude`.
    pub fn new(freq_hz: f64, amplitude: i16) -> ToneSource {
        ToneSource {
            step: std::f64::consts::TAU * freq_hz / f64::from(DEVICE_RATE),
            phase: 0.0,
            amplitude: f64::from(amplitude),
            remaining: None,
        }
    }

    /// Ends the tone after `samples` samples; the last frame is padded with silence.
    pub fn with_length(mut self, samples: u64) -> ToneSource {
        self.remaining = Some(samples);
        self
    }
}

impl AudioSource for ToneSource {
    fn read_frame(&mut self, out: &mut [i16]) -> bool {
        if self.remaining == Some(0) {
            out.fill(0);
            return false;
        }
        for s in out.iter_mut() {
            if let Some(r) = &mut self.remaining {
                if *r == 0 {
                    *s = 0;
                    continue;
                }
                *r -= 1;
            }
            *s = (self.phase.sin() * self.amplitude).round() as i16;
            self.phase = (self.phase + self.step) % std::f64::consts::TAU;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_source_ends_after_its_length() {
        let mut tone = ToneSource::new(1000.0, 10_000).with_length(1000);
        let mut frame = [0i16; FRAME_SAMPLES];
        assert!(tone.read_frame(&mut frame));
        assert_eq!(
            frame[12],
            (10_000.0 * (std::f64::consts::TAU * 12.0 / 48.0).sin()) as i16
        );
        assert!(tone.read_frame(&mut frame));
        assert!(frame[40..].iter().all(|&s| s == 0) && frame[39] != 0);
        assert!(!tone.read_frame(&mut frame));
    }
}
