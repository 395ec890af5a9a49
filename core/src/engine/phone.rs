//! The phone engine: one tokio task that owns the transports and the sans-IO user agent,
//! moves bytes and timers between them, and takes commands / gives events over channels.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;

use super::account::{AccountError, AccountSettings, NetworkKind};
use super::media::{self, AudioConfig, MediaEvent, MediaTask};
use super::tls::TlsSettings;
use super::transport::{TransportConfig, TransportError, TransportEvent, Transports};
use super::zid_store::{Pending, ZidStore, ZidStoreError};
use crate::media::codec::EncoderConfig;
use crate::sip::ua::{
    CallHandle, CallState, MediaConfig, MediaEncryption, UaConfig, UaError, UaEvent, UaOutput,
    UserAgent,
};
use crate::sip::{Transport, Uri};
use crate::zrtp::algorithms::SasType;
use crate::zrtp::message::Zid;
use crate::zrtp::session::{SecureInfo, ZrtpConfig};

/// How to start a phone.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    pub account: Option<AccountSettings>,
    /// Local IP and SIP port (0 = any).
    pub bind: SocketAddr,
    /// Transport for peer-to-peer use (with an account, the account's wins).
    pub transport: Transport,
    pub tls: TlsSettings,
    pub media: MediaConfig,
    /// Where calls' audio comes from and goes to.
    pub audio: AudioConfig,
    pub encoder: EncoderConfig,
    /// The network the phone is on: with an account, it picks the account's codec list.
    pub network: NetworkKind,
    /// Offer/accept only this codec (SDP name, e.g. `opus`, `PCMU`), over any codec list.
    pub only_codec: Option<String>,
    /// Media encryption policy (an account's own setting wins).
    pub encryption: MediaEncryption,
    pub allow_insecure_sdes: bool,
    pub keepalive: Duration,
    /// Where the ZRTP identity (ZID) and the retained-secret cache live. Without it the ZID is
    /// random per start and the cache lasts only as long as the phone.
    pub data_dir: Option<PathBuf>,
    /// The SAS rendering we prefer (the other one stays offered): B32's four characters, or
    /// B256's two PGP words. The side that sends the winning Commit chooses.
    pub zrtp_sas: SasType,
}

impl Default for PhoneConfig {
    fn default() -> PhoneConfig {
        PhoneConfig {
            account: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            transport: Transport::Udp,
            tls: TlsSettings::default(),
            media: MediaConfig::default(),
            audio: AudioConfig::default(),
            encoder: EncoderConfig::default(),
            network: NetworkKind::default(),
            only_codec: None,
            encryption: MediaEncryption::default(),
            allow_insecure_sdes: false,
            keepalive: Duration::from_secs(30),
            data_dir: None,
            zrtp_sas: SasType::B32,
        }
    }
}

/// Something to do.
#[derive(Debug, Clone)]
pub enum Command {
    Register,
    Unregister,
    Call(Uri),
    Answer(CallHandle),
    Reject(CallHandle, u16),
    Hangup(CallHandle),
    Hold(CallHandle),
    Resume(CallHandle),
    /// Send DTMF digits (RFC 4733) on a connected call.
    Dtmf(CallHandle, String),
    /// Mute (true) or unmute our microphone on a call: silence is sent while muted.
    Mute(CallHandle, bool),
    /// The users compared the call's ZRTP SAS by voice and it matched: remember the peer as
    /// verified (persisted with the retained secrets).
    ConfirmSas(CallHandle),
    /// Forget that the call's peer was verified.
    RevokeSas(CallHandle),
    /// The device moved to another network: re-register and refresh the calls.
    NetworkChanged,
    /// Hang up every call, un-register, and stop once idle (bounded).
    Shutdown,
}

impl Command {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Register => "register",
            Command::Unregister => "unregister",
            Command::Call(_) => "call",
            Command::Answer(_) => "answer",
            Command::Reject(..) => "reject",
            Command::Hangup(_) => "hangup",
            Command::Hold(_) => "hold",
            Command::Resume(_) => "resume",
            Command::Dtmf(..) => "dtmf",
            Command::Mute(..) => "mute",
            Command::ConfirmSas(_) => "confirm-sas",
            Command::RevokeSas(_) => "revoke-sas",
            Command::NetworkChanged => "network-changed",
            Command::Shutdown => "shutdown",
        }
    }
}

/// What the phone reports.
#[derive(Debug, Clone, PartialEq)]
pub enum PhoneEvent {
    Listening {
        transport: Transport,
        addr: SocketAddr,
    },
    Ua(UaEvent),
    /// The call placed by a `Command::Call` got this handle.
    CallPlaced {
        call: CallHandle,
        uri: String,
    },
    /// A command could not be carried out.
    CommandFailed {
        command: String,
        error: String,
    },
    /// Audio-path news of a call: quality figures, DTMF, end of the played file.
    Media(MediaEvent),
    /// Something the user must know about the phone's security or health, e.g. that TLS
    /// certificates are not verified.
    Warning(String),
    /// The engine stopped; nothing more will come.
    Stopped,
}

/// Why a phone could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    ZidStore(#[from] ZidStoreError),
}

/// A started phone: send commands, read events.
pub struct Phone {
    pub commands: mpsc::UnboundedSender<Command>,
    pub events: mpsc::UnboundedReceiver<PhoneEvent>,
    /// Where the phone listens, per transport.
    pub local: Vec<(Transport, SocketAddr)>,
}

/// How long shutdown waits for BYEs and the un-REGISTER to be answered.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Phone {
    /// Binds the sockets, resolves the account's server, and spawns the engine task on the
    /// current tokio runtime.
    pub async fn start(config: PhoneConfig) -> Result<Phone, PhoneError> {
        let (zids, store_warnings) = match &config.data_dir {
            Some(dir) => ZidStore::open(dir)?,
            None => (ZidStore::in_memory(), Vec::new()),
        };
        let account = match &config.account {
            Some(a) => Some(a.resolve().await?),
            None => None,
        };
        let transport = config
            .account
            .as_ref()
            .map_or(config.transport, |a| a.transport());
        let mut tls = config.tls.clone();
        if let Some(a) = &config.account {
            tls.ca_file = a.ca_file.clone().or(tls.ca_file);
            tls.accept_any_certificate |= a.accept_any_certificate;
            tls.server_name = tls.server_name.or_else(|| a.tls_server_name());
        }
        let port = config
            .account
            .as_ref()
            .and_then(|a| a.local_port)
            .unwrap_or(config.bind.port());
        let bind_ip: IpAddr = config.bind.ip();
        let tconfig = TransportConfig {
            bind_ip,
            udp_port: Some(if transport == Transport::Udp { port } else { 0 }),
            tcp_port: (transport == Transport::Tcp).then_some(port),
            tls_port: (transport == Transport::Tls).then_some(port),
            tls,
            keepalive_interval: config.keepalive,
        };
        let (transports, tevents) = Transports::bind(tconfig).await?;
        let tls_unverified = transports.is_insecure() && transport == Transport::Tls;
        let mut local = Vec::new();
        for t in [Transport::Udp, Transport::Tcp, Transport::Tls] {
            if let Some(addr) = transports.local_addr(t) {
                local.push((t, addr));
            }
        }
        // Reserve the RTP/RTCP port pair we announce in SDP (RTP even, RTCP the next port).
        let (rtp, rtcp) = bind_rtp_pair(bind_ip)
            .await
            .map_err(|source| TransportError::Bind {
                transport: Transport::Udp,
                addr: SocketAddr::new(bind_ip, 0),
                source,
            })?;
        let mut media = config.media.clone();
        let mut encoder = config.encoder;
        if let Some(a) = &config.account {
            let (codecs, bitrate) = a.codecs.for_network(config.network)?;
            media.codecs = codecs;
            encoder.bitrate = bitrate;
        }
        // On mobile data, loss is expected: Opus FEC from the first packet, not after the
        // first RTCP report (if the peer's fmtp allows FEC).
        if config.network == NetworkKind::Mobile {
            encoder = encoder.for_mobile();
        }
        if let Some(only) = &config.only_codec {
            media.codecs.retain(|c| c.name.eq_ignore_ascii_case(only));
        }
        media.rtp_address = rtp.local_addr().map_err(|source| TransportError::Bind {
            transport: Transport::Udp,
            addr: SocketAddr::new(bind_ip, 0),
            source,
        })?;
        let ua_config = UaConfig {
            account,
            media,
            keepalive: Some(config.keepalive),
            transport,
            encryption: config
                .account
                .as_ref()
                .and_then(|a| a.media_encryption)
                .map_or(config.encryption, Into::into),
            tls_unverified,
            allow_insecure_sdes: config.allow_insecure_sdes
                || config
                    .account
                    .as_ref()
                    .is_some_and(|a| a.allow_insecure_sdes),
            zrtp: Some(zrtp_config(zids.zid(), config.zrtp_sas)),
            ..UaConfig::default()
        };
        let mut ua = UserAgent::new(ua_config, &mut rand::rngs::OsRng);
        for (t, addr) in &local {
            ua.set_local_addr(*t, *addr);
        }
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        for (t, addr) in &local {
            let _ = ev_tx.send(PhoneEvent::Listening {
                transport: *t,
                addr: *addr,
            });
        }
        for warning in store_warnings {
            let _ = ev_tx.send(PhoneEvent::Warning(warning));
        }
        if tls_unverified {
            let _ = ev_tx.send(PhoneEvent::Warning(
                "INSECURE: TLS server certificates are not verified (accept_any_certificate); \
                 anyone on the path can pretend to be the server"
                    .into(),
            ));
        }
        let engine = Engine {
            ua,
            transports,
            rtp: Arc::new(rtp),
            rtcp: Arc::new(rtcp),
            zids,
            zrtp_calls: HashMap::new(),
            media: HashMap::new(),
            audio: config.audio.clone(),
            encoder,
        };
        tokio::spawn(run(engine, tevents, cmd_rx, ev_tx));
        Ok(Phone {
            commands: cmd_tx,
            events: ev_rx,
            local,
        })
    }

    /// Sends a command; false if the engine has stopped.
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        self.local
            .iter()
            .find(|(t, _)| *t == transport)
            .map(|(_, a)| *a)
    }
}

/// What the engine task owns.
struct Engine {
    ua: UserAgent,
    transports: Transports,
    /// The RTP port announced in SDP (one media stream at a time for now).
    rtp: Arc<tokio::net::UdpSocket>,
    rtcp: Arc<tokio::net::UdpSocket>,
    /// Our ZRTP identity and what we retained of peers.
    zids: ZidStore,
    /// Calls whose ZRTP exchange completed: what the user was shown, and a secret held back by
    /// a cache mismatch until the SAS is confirmed.
    zrtp_calls: HashMap<CallHandle, (Box<SecureInfo>, Option<Pending>)>,
    media: HashMap<CallHandle, MediaTask>,
    audio: AudioConfig,
    encoder: EncoderConfig,
}

async fn run(
    mut engine: Engine,
    mut tevents: mpsc::Receiver<TransportEvent>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<PhoneEvent>,
) {
    let (media_tx, mut media_rx) = mpsc::unbounded_channel();
    let mut shutdown_deadline: Option<tokio::time::Instant> = None;
    loop {
        engine.flush(&events, &media_tx);
        if let Some(deadline) = shutdown_deadline {
            if engine.ua.is_idle() || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        let wake = engine.ua.poll_timeout().map(tokio::time::Instant::from_std);
        let wake = match (wake, shutdown_deadline) {
            (Some(w), Some(d)) => Some(w.min(d)),
            (w, d) => w.or(d),
        };
        let ua = &mut engine.ua;
        tokio::select! {
            ev = tevents.recv() => {
                let now = Instant::now();
                match ev {
                    Some(TransportEvent::Received { source, data, .. }) => {
                        ua.handle_datagram(now, source, &data)
                    }
                    Some(TransportEvent::FlowClosed { target, reason }) => {
                        tracing::info!(%target, %reason, "flow closed");
                        ua.flow_closed(now, target);
                    }
                    Some(TransportEvent::SendFailed { target, reason }) => {
                        tracing::warn!(%target, %reason, "send failed");
                        ua.transport_failed(now, target, &reason);
                    }
                    None => break,
                }
            }
            cmd = commands.recv() => {
                let now = Instant::now();
                match cmd {
                    Some(Command::Shutdown) | None => {
                        if shutdown_deadline.is_none() {
                            shutdown(ua, now);
                            shutdown_deadline = Some(tokio::time::Instant::now() + SHUTDOWN_GRACE);
                        }
                    }
                    Some(Command::Dtmf(call, digits)) => match engine.media.get(&call) {
                        Some(task) => task.dtmf(digits),
                        None => no_media(&events, "dtmf"),
                    },
                    Some(Command::Mute(call, on)) => match engine.media.get(&call) {
                        Some(task) => task.mute(on),
                        None => no_media(&events, "mute"),
                    },
                    Some(Command::ConfirmSas(call)) => engine.set_verified(call, true, &events),
                    Some(Command::RevokeSas(call)) => engine.set_verified(call, false, &events),
                    Some(cmd) => apply(ua, now, cmd, &events),
                }
            }
            ev = media_rx.recv() => {
                if let Some(ev) = ev {
                    engine.on_media_event(&ev, &events);
                    let _ = events.send(PhoneEvent::Media(ev));
                }
            }
            _ = sleep_until(wake) => {
                ua.handle_timeout(Instant::now());
            }
        }
    }
    engine.flush(&events, &media_tx);
    for task in engine.media.values() {
        task.stop();
    }
    // Let the media tasks finish their recordings and the last datagrams leave.
    tokio::time::sleep(Duration::from_millis(60)).await;
    while let Ok(ev) = media_rx.try_recv() {
        let _ = events.send(PhoneEvent::Media(ev));
    }
    engine.transports.shutdown();
    let _ = events.send(PhoneEvent::Stopped);
}

impl Engine {
    fn flush(
        &mut self,
        events: &mpsc::UnboundedSender<PhoneEvent>,
        media_events: &mpsc::UnboundedSender<MediaEvent>,
    ) {
        while let Some(out) = self.ua.poll_output() {
            match out {
                UaOutput::Transmit { target, data } => self.transports.send(target, data),
                UaOutput::Event(UaEvent::KeepAlive { target, on }) => {
                    self.transports.keep_alive(target, on)
                }
                UaOutput::Event(ev) => {
                    self.on_ua_event(&ev, media_events);
                    let _ = events.send(PhoneEvent::Ua(ev));
                }
            }
        }
    }

    /// Starts, updates and stops calls' media as the signalling says.
    fn on_ua_event(&mut self, ev: &UaEvent, media_events: &mpsc::UnboundedSender<MediaEvent>) {
        match ev {
            UaEvent::Media {
                call,
                media,
                srtp,
                zrtp,
            } => match self.media.get(call) {
                Some(task) => task.update((**media).clone()),
                None => {
                    let started = media::spawn(
                        *call,
                        media,
                        media::RtpSockets {
                            rtp: self.rtp.clone(),
                            rtcp: self.rtcp.clone(),
                        },
                        media::MediaSecurity {
                            srtp: srtp.as_ref(),
                            require_srtp: self.ua.config().encryption.is_mandatory(),
                            zrtp: self.ua.config().encryption.is_zrtp().then(|| {
                                // The UA announced this identity's Hello in the SDP.
                                let mut cfg =
                                    self.ua.config().zrtp.clone().unwrap_or_else(|| {
                                        zrtp_config(self.zids.zid(), SasType::B32)
                                    });
                                cfg.known_peers = self.zids.known_peers(SystemTime::now());
                                if let Some(z) = zrtp {
                                    cfg.hello = Some(z.hello.clone());
                                    cfg.peer_hello_hash = z.peer_hello_hash;
                                }
                                cfg
                            }),
                        },
                        &self.audio,
                        &self.encoder,
                        media_events.clone(),
                    );
                    match started {
                        Ok(task) => {
                            self.media.insert(*call, task);
                        }
                        Err(error) => {
                            let _ = media_events.send(MediaEvent::Error { call: *call, error });
                        }
                    }
                }
            },
            UaEvent::Call {
                call,
                state: CallState::Ended | CallState::Failed,
                ..
            } => {
                if let Some(task) = self.media.remove(call) {
                    task.stop();
                }
                self.zrtp_calls.remove(call);
            }
            _ => {}
        }
    }
}

impl Engine {
    /// A ZRTP exchange completed: remember the peer's new secret.
    fn on_media_event(&mut self, ev: &MediaEvent, events: &mpsc::UnboundedSender<PhoneEvent>) {
        let MediaEvent::ZrtpSecure { call, info } = ev else {
            return;
        };
        if info.sas_relayed {
            // The same keys, with the far end's SAS from an enrolled PBX: nothing to store.
            if let Some((shown, _)) = self.zrtp_calls.get_mut(call) {
                *shown = info.clone();
            }
            return;
        }
        let pending = match self.zids.record(info, SystemTime::now()) {
            Ok(pending) => pending,
            Err(e) => {
                let _ = events.send(PhoneEvent::Warning(format!(
                    "the ZRTP cache could not be saved, the next call will not recognise this                      peer: {e}"
                )));
                None
            }
        };
        self.zrtp_calls.insert(*call, (info.clone(), pending));
    }

    /// The user confirmed (or revoked) the SAS of a call: persist it and show the new state.
    fn set_verified(
        &mut self,
        call: CallHandle,
        verified: bool,
        events: &mpsc::UnboundedSender<PhoneEvent>,
    ) {
        let command = if verified {
            "confirm-sas"
        } else {
            "revoke-sas"
        };
        let Some((info, pending)) = self.zrtp_calls.get_mut(&call) else {
            let _ = events.send(PhoneEvent::CommandFailed {
                command: command.into(),
                error: "the call has no completed ZRTP exchange".into(),
            });
            return;
        };
        let saved = if verified {
            self.zids
                .confirm(info.peer_zid, pending.take(), info.enrollment_offered)
        } else {
            self.zids.revoke(info.peer_zid)
        };
        if let Err(e) = saved {
            let _ = events.send(PhoneEvent::CommandFailed {
                command: command.into(),
                error: e.to_string(),
            });
        }
        info.verified = verified;
        let _ = events.send(PhoneEvent::Media(MediaEvent::ZrtpSecure {
            call,
            info: info.clone(),
        }));
    }
}

/// Our ZRTP preferences: AES-256 and SHA-384 first (the CPU cost is negligible next to the
/// codec), X25519 then DH3k; the SAS rendering the user prefers first (by default the
/// 4-character B32, easier to read aloud than PGP words).
fn zrtp_config(zid: Zid, sas: SasType) -> ZrtpConfig {
    use crate::zrtp::algorithms::{CipherAlgorithm, HashAlgorithm};
    let mut cfg = ZrtpConfig::new(zid);
    cfg.algorithms.ciphers = vec![CipherAlgorithm::Aes3, CipherAlgorithm::Aes1];
    cfg.algorithms.hashes = vec![HashAlgorithm::S384, HashAlgorithm::S256];
    cfg.algorithms.sas_types = match sas {
        SasType::B256 => vec![SasType::B256, SasType::B32],
        SasType::B32 => vec![SasType::B32, SasType::B256],
    };
    cfg
}

/// Binds an even RTP port and the RTCP port after it (RFC 3550 §11), trying a bounded number
/// of random pairs.
async fn bind_rtp_pair(
    ip: IpAddr,
) -> std::io::Result<(tokio::net::UdpSocket, tokio::net::UdpSocket)> {
    let mut last_error = None;
    for _ in 0..32 {
        let port = 2 * (10_000 + rand::random::<u16>() % 20_000);
        match tokio::net::UdpSocket::bind(SocketAddr::new(ip, port)).await {
            Ok(rtp) => match tokio::net::UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
                Ok(rtcp) => return Ok((rtp, rtcp)),
                Err(e) => last_error = Some(e),
            },
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free RTP port pair")))
}

async fn sleep_until(wake: Option<tokio::time::Instant>) {
    match wake {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn apply(
    ua: &mut UserAgent,
    now: Instant,
    cmd: Command,
    events: &mpsc::UnboundedSender<PhoneEvent>,
) {
    let label = cmd.name().to_string();
    let result: Result<(), UaError> = match cmd {
        Command::Register => ua.register(now),
        Command::Unregister => {
            ua.unregister(now);
            Ok(())
        }
        Command::Call(uri) => ua.call(now, uri.clone(), None).map(|call| {
            let _ = events.send(PhoneEvent::CallPlaced {
                call,
                uri: uri.to_string(),
            });
        }),
        Command::Answer(h) => ua.answer(now, h),
        Command::Reject(h, code) => ua.reject(now, h, code),
        Command::Hangup(h) => ua.hangup(now, h),
        Command::Hold(h) => ua.hold(now, h),
        Command::Resume(h) => ua.resume(now, h),
        Command::NetworkChanged => {
            ua.refresh_calls(now);
            if ua.registration_state().is_some() {
                ua.register(now)
            } else {
                Ok(())
            }
        }
        // Handled by the engine loop before it gets here.
        Command::Shutdown
        | Command::Dtmf(..)
        | Command::Mute(..)
        | Command::ConfirmSas(_)
        | Command::RevokeSas(_) => Ok(()),
    };
    if let Err(e) = result {
        let _ = events.send(PhoneEvent::CommandFailed {
            command: label,
            error: e.to_string(),
        });
    }
}

fn no_media(events: &mpsc::UnboundedSender<PhoneEvent>, command: &str) {
    let _ = events.send(PhoneEvent::CommandFailed {
        command: command.into(),
        error: "the call has no media".into(),
    });
}

fn shutdown(ua: &mut UserAgent, now: Instant) {
    for h in ua.call_handles() {
        let _ = ua.hangup(now, h);
    }
    ua.unregister(now);
}
