//! Android capture and playout through Oboe (AAudio, or OpenSL ES on old devices).
//!
//! Two callback streams, 48 kHz mono `i16`, low latency, exclusive, tuned for voice calls. The
//! real-time callbacks only move samples between the device and lock-free SPSC rings (`rtrb`):
//! no locks, no allocation, no logging, no calls into Kotlin; the counters they bump are atomics.
//! The engine side pulls and pushes whole 20 ms frames through [`OboeSource`] and [`OboeSink`]:
//! a ring that runs dry plays silence, a ring that is full drops the new audio and counts it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use oboe::{
    AudioInputCallback, AudioInputStreamSafe, AudioOutputCallback, AudioOutputStreamSafe,
    AudioStream, AudioStreamAsync, AudioStreamBuilder, DataCallbackResult, Input, InputPreset,
    Mono, Output, PerformanceMode, SharingMode, Usage,
};
use rtrb::{Consumer, Producer, RingBuffer};

use super::{AudioError, AudioSink, AudioSource, DEVICE_RATE, FRAME_SAMPLES};

/// Ring capacity: 200 ms each way, far above the device burst and one engine frame.
const RING: usize = 10 * FRAME_SAMPLES;
/// Capture latency cap: older audio than this is dropped so the mouth-to-ear delay cannot grow.
const MAX_CAPTURE_BACKLOG: usize = 3 * FRAME_SAMPLES;

/// Underrun and overrun counts, shared between the callbacks and the engine.
#[derive(Debug, Default)]
pub struct OboeCounters {
    /// Samples of silence played because the playout ring ran dry.
    pub playout_underrun: AtomicU64,
    /// Samples the engine wrote that did not fit in the playout ring.
    pub playout_overrun: AtomicU64,
    /// Captured samples dropped because the capture ring was full or too far behind.
    pub capture_overrun: AtomicU64,
    /// Samples of silence the engine got because the capture ring ran dry.
    pub capture_underrun: AtomicU64,
}

/// The two open streams; dropping this stops and closes them.
pub struct OboeDevice {
    input: AudioStreamAsync<Input, MicCallback>,
    output: AudioStreamAsync<Output, SpeakerCallback>,
    counters: Arc<OboeCounters>,
}

impl OboeDevice {
    /// Opens and starts capture and playout, returning the engine-side ends.
    pub fn start() -> Result<(OboeDevice, OboeSource, OboeSink), AudioError> {
        let counters = Arc::new(OboeCounters::default());
        let (mic_tx, mic_rx) = RingBuffer::<i16>::new(RING);
        let (spk_tx, spk_rx) = RingBuffer::<i16>::new(RING);

        let mut input = AudioStreamBuilder::default()
            .set_input()
            .set_performance_mode(PerformanceMode::LowLatency)
            .set_sharing_mode(SharingMode::Exclusive)
            .set_usage(Usage::VoiceCommunication)
            .set_input_preset(InputPreset::VoiceCommunication)
            .set_sample_rate(DEVICE_RATE as i32)
            .set_i16()
            .set_mono()
            .set_callback(MicCallback {
                ring: mic_tx,
                counters: counters.clone(),
            })
            .open_stream()
            .map_err(device)?;
        let mut output = AudioStreamBuilder::default()
            .set_output()
            .set_performance_mode(PerformanceMode::LowLatency)
            .set_sharing_mode(SharingMode::Exclusive)
            .set_usage(Usage::VoiceCommunication)
            .set_sample_rate(DEVICE_RATE as i32)
            .set_i16()
            .set_mono()
            .set_callback(SpeakerCallback {
                ring: spk_rx,
                counters: counters.clone(),
            })
            .open_stream()
            .map_err(device)?;
        input.start().map_err(device)?;
        output.start().map_err(device)?;

        let source = OboeSource {
            ring: mic_rx,
            counters: counters.clone(),
        };
        let sink = OboeSink {
            ring: spk_tx,
            counters: counters.clone(),
        };
        Ok((
            OboeDevice {
                input,
                output,
                counters,
            },
            source,
            sink,
        ))
    }

    /// The shared underrun/overrun counters.
    pub fn counters(&self) -> &OboeCounters {
        &self.counters
    }

    /// Stops both streams (they are also closed on drop).
    pub fn stop(&mut self) -> Result<(), AudioError> {
        self.input.stop().map_err(device)?;
        self.output.stop().map_err(device)
    }
}

/// The engine's end of the capture ring.
pub struct OboeSource {
    ring: Consumer<i16>,
    counters: Arc<OboeCounters>,
}

impl AudioSource for OboeSource {
    fn read_frame(&mut self, out: &mut [i16]) -> bool {
        // Too much backlog (the engine stalled): skip the oldest audio to keep latency bounded.
        let backlog = self.ring.slots();
        if backlog > MAX_CAPTURE_BACKLOG + out.len() {
            let excess = backlog - MAX_CAPTURE_BACKLOG - out.len();
            if let Ok(chunk) = self.ring.read_chunk(excess) {
                chunk.commit_all();
                self.counters
                    .capture_overrun
                    .fetch_add(excess as u64, Ordering::Relaxed);
            }
        }
        let n = self.ring.slots().min(out.len());
        copy_out(&mut self.ring, &mut out[..n]);
        out[n..].fill(0);
        if n < out.len() {
            self.counters
                .capture_underrun
                .fetch_add((out.len() - n) as u64, Ordering::Relaxed);
        }
        true
    }
}

/// The engine's end of the playout ring.
pub struct OboeSink {
    ring: Producer<i16>,
    counters: Arc<OboeCounters>,
}

impl AudioSink for OboeSink {
    fn write_frame(&mut self, pcm: &[i16]) {
        let n = copy_in(&mut self.ring, pcm);
        if n < pcm.len() {
            self.counters
                .playout_overrun
                .fetch_add((pcm.len() - n) as u64, Ordering::Relaxed);
        }
    }

    fn finish(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
}

/// Real-time capture callback: device -> ring.
struct MicCallback {
    ring: Producer<i16>,
    counters: Arc<OboeCounters>,
}

impl AudioInputCallback for MicCallback {
    type FrameType = (i16, Mono);

    fn on_audio_ready(
        &mut self,
        _stream: &mut dyn AudioInputStreamSafe,
        data: &[i16],
    ) -> DataCallbackResult {
        let n = copy_in(&mut self.ring, data);
        if n < data.len() {
            self.counters
                .capture_overrun
                .fetch_add((data.len() - n) as u64, Ordering::Relaxed);
        }
        DataCallbackResult::Continue
    }
}

/// Real-time playout callback: ring -> device, silence when the ring is dry.
struct SpeakerCallback {
    ring: Consumer<i16>,
    counters: Arc<OboeCounters>,
}

impl AudioOutputCallback for SpeakerCallback {
    type FrameType = (i16, Mono);

    fn on_audio_ready(
        &mut self,
        _stream: &mut dyn AudioOutputStreamSafe,
        data: &mut [i16],
    ) -> DataCallbackResult {
        let n = self.ring.slots().min(data.len());
        copy_out(&mut self.ring, &mut data[..n]);
        data[n..].fill(0);
        if n < data.len() {
            self.counters
                .playout_underrun
                .fetch_add((data.len() - n) as u64, Ordering::Relaxed);
        }
        DataCallbackResult::Continue
    }
}

/// Writes as much of `data` as fits; returns how much did. Lock- and allocation-free.
fn copy_in(ring: &mut Producer<i16>, data: &[i16]) -> usize {
    let n = ring.slots().min(data.len());
    if let Ok(mut chunk) = ring.write_chunk(n) {
        let (a, b) = chunk.as_mut_slices();
        a.copy_from_slice(&data[..a.len()]);
        b.copy_from_slice(&data[a.len()..n]);
        chunk.commit_all();
        n
    } else {
        0
    }
}

/// Fills `out` from the ring; the caller has checked that `out.len()` samples are there.
fn copy_out(ring: &mut Consumer<i16>, out: &mut [i16]) {
    if let Ok(chunk) = ring.read_chunk(out.len()) {
        let (a, b) = chunk.as_slices();
        out[..a.len()].copy_from_slice(a);
        out[a.len()..].copy_from_slice(b);
        chunk.commit_all();
    } else {
        out.fill(0);
    }
}

fn device(e: oboe::Error) -> AudioError {
    AudioError::Device(format!("{e:?}"))
}
