//! WAV files as audio devices: a source that plays a file (any rate, any channel count, integer
//! or float samples; mixed down to mono and resampled to 48 kHz) and a sink that records one
//! (mono 16-bit, at 48 kHz or a chosen rate), written as it goes.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use super::{AudioError, AudioSink, AudioSource, DEVICE_RATE, FRAME_SAMPLES};
use crate::media::codec::Resampler;

/// How a [`WavSource`] plays its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WavSourceOptions {
    /// Start again from the beginning at the end of the file, forever.
    pub looping: bool,
    /// Silence played once before the file.
    pub lead_silence_ms: u32,
    /// Silence played after the file (after each pass when looping).
    pub tail_silence_ms: u32,
}

/// Plays a WAV file as 48 kHz mono.
pub struct WavSource {
    reader: hound::WavReader<BufReader<File>>,
    format: SampleFormat,
    channels: usize,
    resampler: Resampler,
    /// Resampler output still to drop: it runs late by this much, and the start is trimmed so
    /// the file comes out on time and of the right length.
    skip: usize,
    options: WavSourceOptions,
    stage: Stage,
    /// Output ready to hand out, at 48 kHz.
    pending: Vec<i16>,
    /// Scratch for one block of mixed-down input.
    mono: Vec<i16>,
    /// Input samples read in the current pass over the file.
    pass_samples: u64,
}

impl WavSource {
    /// Opens `path` to play once, with no added silence.
    pub fn open(path: impl AsRef<Path>) -> Result<WavSource, AudioError> {
        WavSource::open_with(path, WavSourceOptions::default())
    }

    /// Opens `path` with `options`.
    pub fn open_with(
        path: impl AsRef<Path>,
        options: WavSourceOptions,
    ) -> Result<WavSource, AudioError> {
        let reader = hound::WavReader::open(path)?;
        let spec = reader.spec();
        let format = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Int, bits @ 1..=32) => SampleFormat::Int(bits),
            (hound::SampleFormat::Float, 32) => SampleFormat::Float,
            (f, bits) => {
                return Err(AudioError::UnsupportedFormat(format!(
                    "{bits}-bit {f:?} samples"
                )));
            }
        };
        if spec.channels == 0 {
            return Err(AudioError::UnsupportedFormat("no channels".into()));
        }
        let resampler = Resampler::new(spec.sample_rate, DEVICE_RATE)?;
        let stage = if options.lead_silence_ms > 0 {
            Stage::Silence {
                left: ms_to_samples(options.lead_silence_ms),
                then_file: true,
            }
        } else {
            Stage::File
        };
        Ok(WavSource {
            reader,
            format,
            channels: usize::from(spec.channels),
            skip: resampler.delay(),
            resampler,
            options,
            stage,
            pending: Vec::new(),
            mono: Vec::new(),
            pass_samples: 0,
        })
    }

    /// The file's own sample rate.
    pub fn file_rate(&self) -> u32 {
        self.resampler.from_rate()
    }

    /// Produces more output into `pending`; false once the stream has ended.
    fn refill(&mut self) -> bool {
        match self.stage {
            Stage::Done => false,
            Stage::Silence { left, then_file } => {
                let n = left.min(FRAME_SAMPLES);
                self.pending.resize(self.pending.len() + n, 0);
                self.stage = match (left - n, then_file) {
                    (0, true) => Stage::File,
                    (0, false) if self.options.looping => Stage::File,
                    (0, false) => Stage::Done,
                    (left, then_file) => Stage::Silence { left, then_file },
                };
                true
            }
            Stage::File => {
                let block = (self.resampler.from_rate() / 50) as usize;
                let read = self.read_mono(block);
                self.pass_samples += read as u64;
                let mut out = Vec::new();
                self.resampler.process(&self.mono, &mut out);
                if read < block {
                    // End of this pass. A seamless loop keeps the resampler running across the
                    // seam; otherwise the samples still inside its filter are flushed out first.
                    let tail = ms_to_samples(self.options.tail_silence_ms);
                    // A pass that yielded nothing (unreadable data) must not loop, or this would
                    // spin without producing audio.
                    let restarted = self.options.looping
                        && self.pass_samples > 0
                        && self.reader.seek(0).is_ok();
                    self.pass_samples = 0;
                    let reset = !restarted || tail > 0;
                    if reset {
                        self.resampler.flush(&mut out);
                    }
                    let skipped = self.skip.min(out.len());
                    self.skip -= skipped;
                    self.pending.extend_from_slice(&out[skipped..]);
                    if reset {
                        self.resampler.reset();
                        self.skip = self.resampler.delay();
                    }
                    if !restarted {
                        self.options.looping = false;
                    }
                    self.stage = match (tail, restarted) {
                        (0, true) => Stage::File,
                        (0, false) => Stage::Done,
                        (left, _) => Stage::Silence {
                            left,
                            then_file: false,
                        },
                    };
                    return true;
                }
                let skipped = self.skip.min(out.len());
                self.skip -= skipped;
                self.pending.extend_from_slice(&out[skipped..]);
                true
            }
        }
    }

    /// Reads up to `frames` sample frames, mixed down to mono, into `self.mono`; returns how many
    /// were read. A read error mid-file (truncated data) ends the pass.
    fn read_mono(&mut self, frames: usize) -> usize {
        self.mono.clear();
        let channels = self.channels;
        let mut acc = 0.0f64;
        let mut k = 0;
        let mut push = |v: f64, mono: &mut Vec<i16>| {
            acc += v;
            k += 1;
            if k == channels {
                let s = (acc / channels as f64).round().clamp(-32768.0, 32767.0) as i16;
                mono.push(s);
                acc = 0.0;
                k = 0;
            }
        };
        let wanted = frames * channels;
        match self.format {
            SampleFormat::Int(bits) => {
                let scale = 2f64.powi(16 - i32::from(bits));
                for s in self.reader.samples::<i32>().take(wanted) {
                    let Ok(s) = s else { break };
                    push(f64::from(s) * scale, &mut self.mono);
                }
            }
            SampleFormat::Float => {
                for s in self.reader.samples::<f32>().take(wanted) {
                    let Ok(s) = s else { break };
                    push(f64::from(s) * 32768.0, &mut self.mono);
                }
            }
        }
        self.mono.len()
    }
}

impl AudioSource for WavSource {
    fn read_frame(&mut self, out: &mut [i16]) -> bool {
        // Each refill adds output or moves to a later stage, so this ends.
        while self.pending.len() < out.len() && self.refill() {}
        if self.pending.is_empty() {
            out.fill(0);
            return false;
        }
        let n = self.pending.len().min(out.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        out[n..].fill(0);
        self.pending.drain(..n);
        true
    }
}

/// Records 48 kHz mono frames to a 16-bit mono WAV file at a chosen rate.
pub struct WavSink {
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    resampler: Resampler,
    skip: usize,
    scratch: Vec<i16>,
    frames: u32,
    error: Option<AudioError>,
}

impl WavSink {
    /// Creates (or truncates) `path` for audio stored at `rate` Hz.
    pub fn create(path: impl AsRef<Path>, rate: u32) -> Result<WavSink, AudioError> {
        let resampler = Resampler::new(DEVICE_RATE, rate)?;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec)?;
        Ok(WavSink {
            writer: Some(writer),
            skip: resampler.delay(),
            resampler,
            scratch: Vec::new(),
            frames: 0,
            error: None,
        })
    }

    fn write(&mut self, flush: bool) {
        let skipped = self.skip.min(self.scratch.len());
        self.skip -= skipped;
        let (Some(writer), None) = (self.writer.as_mut(), &self.error) else {
            return;
        };
        let mut result = Ok(());
        for &s in &self.scratch[skipped..] {
            result = writer.write_sample(s);
            if result.is_err() {
                break;
            }
        }
        // Fixing the header every second keeps the file playable if the process dies mid-call.
        if result.is_ok() && flush {
            result = writer.flush();
        }
        if let Err(e) = result {
            self.error = Some(e.into());
        }
    }
}

impl AudioSink for WavSink {
    fn write_frame(&mut self, pcm: &[i16]) {
        self.scratch.clear();
        self.resampler.process(pcm, &mut self.scratch);
        // Every 50 frames (one second) the header is brought up to date.
        self.frames = (self.frames + 1) % 50;
        self.write(self.frames == 0);
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        if self.writer.is_none() {
            return Ok(());
        }
        self.scratch.clear();
        self.resampler.flush(&mut self.scratch);
        self.write(false);
        // Invariant: checked to be Some above.
        let writer = self.writer.take().expect("writer present");
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        writer.finalize()?;
        Ok(())
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        // A recording dropped without `finish` still gets a valid header; errors have no one to
        // go to here.
        let _ = self.finish();
    }
}

#[derive(Debug, Clone, Copy)]
enum SampleFormat {
    Int(u16),
    Float,
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    Silence { left: usize, then_file: bool },
    File,
    Done,
}

fn ms_to_samples(ms: u32) -> usize {
    (u64::from(ms) * u64::from(DEVICE_RATE) / 1000) as usize
}
