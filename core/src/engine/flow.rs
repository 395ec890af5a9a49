//! One TCP or TLS flow after it is established: frames incoming bytes into SIP messages, writes
//! queued messages, answers and sends CRLF keepalives (RFC 5626 §3.5.1, §4.4.1) and closes the
//! flow when it fails or idles.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, timeout, Instant};

use super::transport::TransportEvent;
use crate::sip::framing::{Frame, StreamFramer};
use crate::sip::Target;

/// A flow without traffic for this long is closed, unless keepalives are on.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// RFC 5626 §4.4.1: no pong within 10 s after a ping means the flow failed.
pub(crate) const PONG_TIMEOUT: Duration = Duration::from_secs(10);
/// A write that makes no progress for this long means the peer stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
const READ_CHUNK: usize = 16 * 1024;

/// Any byte stream a flow can run over (TCP or TLS, either direction).
pub(crate) trait FlowStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> FlowStream for T {}

/// What the transport asks of a running flow.
pub(crate) struct FlowInputs {
    pub(crate) outgoing: mpsc::Receiver<Vec<u8>>,
    /// Whether this end sends keepalive pings; changed by `Transports::keep_alive`.
    pub(crate) keepalive: watch::Receiver<bool>,
}

pub(crate) struct FlowParams {
    pub(crate) target: Target,
    pub(crate) local: SocketAddr,
    pub(crate) keepalive_interval: Duration,
    pub(crate) events: mpsc::Sender<TransportEvent>,
}

/// Runs the flow until it ends and returns why, for `TransportEvent::FlowClosed`.
pub(crate) async fn run(
    stream: Box<dyn FlowStream>,
    params: FlowParams,
    inputs: &mut FlowInputs,
) -> String {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut framer = StreamFramer::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let interval = params.keepalive_interval.max(Duration::from_millis(10));
    // A ping is due again before a 10 s pong timeout could expire with short intervals, so the
    // shorter of the two bounds how long a dead flow goes unnoticed.
    let pong_timeout = PONG_TIMEOUT.min(interval);
    let mut keepalive = *inputs.keepalive.borrow_and_update();
    let mut next_ping = Instant::now() + interval;
    let mut pong_deadline: Option<Instant> = None;
    let mut last_activity = Instant::now();

    loop {
        tokio::select! {
            data = inputs.outgoing.recv() => {
                let Some(data) = data else {
                    return "transport shut down".to_owned();
                };
                if let Err(reason) = write(&mut writer, &data).await {
                    return reason;
                }
                last_activity = Instant::now();
            }
            changed = inputs.keepalive.changed() => {
                if changed.is_err() {
                    return "transport shut down".to_owned();
                }
                let on = *inputs.keepalive.borrow_and_update();
                if on && !keepalive {
                    next_ping = Instant::now() + interval;
                }
                if !on {
                    pong_deadline = None;
                }
                keepalive = on;
            }
            read = reader.read(&mut buf) => {
                let n = match read {
                    Ok(0) => return "closed by peer".to_owned(),
                    Ok(n) => n,
                    Err(e) => return format!("read failed: {e}"),
                };
                last_activity = Instant::now();
                // Invariant: `n` <= buf.len() as returned by `read`.
                framer.push(&buf[..n]);
                while let Some(frame) = framer.next() {
                    match frame {
                        Ok(Frame::Message(data)) => {
                            let event = TransportEvent::Received {
                                source: params.target,
                                local: params.local,
                                data,
                            };
                            if params.events.send(event).await.is_err() {
                                return "transport shut down".to_owned();
                            }
                        }
                        Ok(Frame::KeepAlivePing) => {
                            if let Err(reason) = write(&mut writer, b"\r\n").await {
                                return reason;
                            }
                        }
                        Ok(Frame::KeepAlivePong) => pong_deadline = None,
                        Err(e) => return format!("framing error: {e}"),
                    }
                }
            }
            _ = sleep_until(next_ping), if keepalive => {
                if let Err(reason) = write(&mut writer, b"\r\n\r\n").await {
                    return reason;
                }
                let now = Instant::now();
                pong_deadline.get_or_insert(now + pong_timeout);
                next_ping = now + interval;
            }
            _ = sleep_until(pong_deadline.unwrap_or(last_activity)), if pong_deadline.is_some() => {
                return format!("keepalive failed: no pong within {} ms", pong_timeout.as_millis());
            }
            _ = sleep_until(last_activity + IDLE_TIMEOUT), if !keepalive => {
                return format!("idle for {} s", IDLE_TIMEOUT.as_secs());
            }
        }
    }
}

async fn write(writer: &mut (impl AsyncWrite + Unpin), data: &[u8]) -> Result<(), String> {
    let io = async {
        writer.write_all(data).await?;
        writer.flush().await
    };
    match timeout(WRITE_TIMEOUT, io).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("write failed: {e}")),
        Err(_) => Err(format!("write stalled for {} s", WRITE_TIMEOUT.as_secs())),
    }
}
