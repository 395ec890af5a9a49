//! `sipher`: the host command-line softphone. Users run it against their own servers; tests
//! and benchmarks drive it with `--json`.

#![allow(clippy::disallowed_methods)] // the CLI drives real time

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod demo;
mod output;

use clap::{Parser, Subcommand, ValueEnum};
use tokio::time::Instant;

use output::{started, status_line, Output};

use sipher::engine::media::MediaEvent;
use sipher::engine::{AccountSettings, Command, NetworkKind, Phone, PhoneConfig, PhoneEvent};
use sipher::sip::ua::{CallHandle, CallState, MediaEncryption, RegState, UaEvent};
use sipher::sip::{Transport, Uri};
use sipher::zrtp::algorithms::SasType;

#[derive(Parser)]
#[command(
    name = "sipher",
    version,
    about = "Sipher secure softphone (command line)"
)]
struct Cli {
    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Register an account, stay registered, un-register on exit.
    Register {
        #[arg(long)]
        account: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Place a call.
    Call {
        /// Who to call, e.g. sip:1001@example.org or sip:127.0.0.1:5070.
        uri: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        peer: PeerOptions,
        #[command(flatten)]
        call: CallOptions,
        /// Give up if the call is not answered within SECS.
        #[arg(long, value_name = "SECS", default_value_t = 60.0)]
        timeout: f64,
    },
    /// Wait for calls and answer them.
    Answer {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        peer: PeerOptions,
        #[command(flatten)]
        call: CallOptions,
        /// Exit after N calls.
        #[arg(long, value_name = "N")]
        max_calls: Option<u32>,
        /// Decline calls with this status (e.g. 486, 603) instead of answering.
        #[arg(long, value_name = "CODE")]
        reject: Option<u16>,
        /// Let calls ring SECS before answering.
        #[arg(long, value_name = "SECS", default_value_t = 0.0)]
        answer_after: f64,
    },
    /// Two local phones call each other over loopback and show what happens.
    Demo {
        #[arg(long)]
        json: bool,
        /// Speech Alice sends (default: the bundled assets/demo-speech.wav).
        #[arg(long, value_name = "FILE.wav")]
        play: Option<PathBuf>,
        /// Where Bob records what he hears (default: a file in the temp directory).
        #[arg(long, value_name = "FILE.wav")]
        record: Option<PathBuf>,
    },
}

#[derive(clap::Args, Clone)]
struct Common {
    /// One JSON object per line on stdout, each with an "event" field.
    #[arg(long)]
    json: bool,
    /// Stop after SECS (register: stay registered that long; calls: hang up SECS after connect).
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
}

#[derive(clap::Args, Clone)]
struct PeerOptions {
    /// Account file (TOML). Without one the phone works peer to peer.
    #[arg(long)]
    account: Option<PathBuf>,
    /// Local address and SIP port.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// SIP transport without an account.
    #[arg(long, value_enum, default_value = "udp")]
    transport: TransportArg,
    /// Extra CA certificate (PEM) for TLS without an account.
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Accept any TLS certificate (insecure; for testing).
    #[arg(long)]
    insecure_tls: bool,
    /// Send this WAV file (any rate) as the microphone.
    #[arg(long, value_name = "FILE.wav")]
    play: Option<PathBuf>,
    /// Write what arrives to this WAV file (48 kHz mono).
    #[arg(long, value_name = "FILE.wav")]
    record: Option<PathBuf>,
    /// Offer/accept only this codec (opus, pcmu, pcma); default: opus, pcmu, pcma, or the
    /// account's list for the network.
    #[arg(long, value_enum)]
    codec: Option<CodecArg>,
    /// The network the phone is on (picks the account's codec list and Opus bitrate).
    #[arg(long, value_enum, default_value = "wifi")]
    network: NetworkArg,
    /// Media encryption: none, srtp (SDES, mandatory: no call without it), srtp-optional,
    /// zrtp (mandatory: no clear media) or zrtp-optional.
    #[arg(long, value_enum)]
    media_encryption: Option<EncryptionArg>,
    /// Directory for the ZRTP identity (ZID) and the retained-secret cache; without it the ZID
    /// is new on every start and no call is ever recognised as a known, verified peer.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Confirm the ZRTP SAS as soon as it is shown (for scripts that compare both phones' SAS
    /// themselves): the peer is remembered as verified.
    #[arg(long)]
    confirm_sas: bool,
    /// The ZRTP SAS rendering to prefer: b32 (four characters) or b256 (two PGP words). The
    /// side whose Commit wins chooses.
    #[arg(long, value_enum, default_value = "b32")]
    zrtp_sas: SasArg,
    /// Allow SDES keys over UDP/TCP signalling (insecure: the keys travel in clear).
    #[arg(long)]
    allow_insecure_sdes: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum EncryptionArg {
    None,
    Srtp,
    SrtpOptional,
    Zrtp,
    ZrtpOptional,
}

#[derive(Clone, Copy, ValueEnum)]
enum SasArg {
    B32,
    B256,
}

#[derive(Clone, Copy, ValueEnum)]
enum NetworkArg {
    Wifi,
    Mobile,
}

#[derive(Clone, Copy, ValueEnum)]
enum CodecArg {
    Opus,
    Pcmu,
    Pcma,
}

#[derive(clap::Args, Clone)]
struct CallOptions {
    /// Put the call on hold SECS after it connects.
    #[arg(long, value_name = "SECS")]
    hold_at: Option<f64>,
    /// Resume the call SECS after it connects.
    #[arg(long, value_name = "SECS")]
    resume_at: Option<f64>,
    /// Send these DTMF digits (0-9 * # A-D) as RFC 4733 telephone-events once connected.
    #[arg(long, value_name = "DIGITS")]
    dtmf: Option<String>,
    /// When to send --dtmf, SECS after the call connects.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    dtmf_at: f64,
}

#[derive(Clone, Copy, ValueEnum)]
enum TransportArg {
    Udp,
    Tcp,
    Tls,
}

impl From<TransportArg> for Transport {
    fn from(t: TransportArg) -> Transport {
        match t {
            TransportArg::Udp => Transport::Udp,
            TransportArg::Tcp => Transport::Tcp,
            TransportArg::Tls => Transport::Tls,
        }
    }
}

fn main() -> ExitCode {
    started();
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sipher: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Mode::Register { account, common } => register(account, common).await,
            Mode::Call {
                uri,
                common,
                peer,
                call,
                timeout,
            } => place_call(uri, common, peer, call, timeout).await,
            Mode::Answer {
                common,
                peer,
                call,
                max_calls,
                reject,
                answer_after,
            } => answer(common, peer, call, max_calls, reject, answer_after).await,
            Mode::Demo { json, play, record } => demo::run(json, play, record).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

// ---- modes ----

async fn register(account: PathBuf, common: Common) -> Result<(), String> {
    let settings = AccountSettings::load(&account).map_err(|e| e.to_string())?;
    let config = PhoneConfig {
        account: Some(settings),
        ..PhoneConfig::default()
    };
    let mut phone = start(config, &common, "").await?;
    phone.send(Command::Register);
    let out = Output::new(common.json, "");
    let mut stop_at: Option<Instant> = None;
    let mut failure = None;
    let mut stopping = false;
    let mut signals = Signals::new()?;
    loop {
        tokio::select! {
            ev = phone.events.recv() => {
                let Some(ev) = ev else { break };
                out.event(&ev);
                match ev {
                    PhoneEvent::Ua(UaEvent::Registration { state, status, reason, .. }) => match state {
                        RegState::Registered if stop_at.is_none() => {
                            stop_at = common.duration.map(|d| Instant::now() + secs(d));
                        }
                        RegState::Failed if !stopping && stop_at.is_none() => {
                            failure = Some(format!(
                                "registration failed: {}",
                                status_line(status, reason.as_deref())
                            ));
                            stopping = true;
                            phone.send(Command::Shutdown);
                        }
                        _ => {}
                    },
                    PhoneEvent::Stopped => break,
                    _ => {}
                }
            }
            _ = sleep_until(stop_at.filter(|_| !stopping)) => {
                stopping = true;
                phone.send(Command::Shutdown);
            }
            _ = signals.recv(), if !stopping => {
                stopping = true;
                phone.send(Command::Shutdown);
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

async fn place_call(
    uri: String,
    common: Common,
    peer: PeerOptions,
    opts: CallOptions,
    timeout: f64,
) -> Result<(), String> {
    let uri = Uri::parse(&uri).map_err(|e| format!("sipher: bad URI {uri:?}: {e}"))?;
    let (config, has_account) = peer_config(&peer)?;
    let mut phone = start(config, &common, "").await?;
    let out = Output::new(common.json, "");
    if has_account {
        wait_registered(&mut phone, &out).await?;
    }
    phone.send(Command::Call(uri));
    let mut call: Option<CallHandle> = None;
    let mut schedule = Schedule::default();
    let give_up = Instant::now() + secs(timeout);
    let mut outcome: Option<Result<(), String>> = None;
    let mut connected = false;
    let mut signals = Signals::new()?;
    loop {
        tokio::select! {
            ev = phone.events.recv() => {
                let Some(ev) = ev else { break };
                out.event(&ev);
                if let Some(cmd) = auto_confirm(&ev, &peer) {
                    phone.send(cmd);
                }
                match &ev {
                    PhoneEvent::CallPlaced { call: h, .. } => call = Some(*h),
                    PhoneEvent::CommandFailed { error, .. } if outcome.is_none() => {
                        outcome = Some(Err(format!("call failed: {error}")));
                        phone.send(Command::Shutdown);
                    }
                    PhoneEvent::Ua(UaEvent::Call { call: h, state, status, reason, .. })
                        if Some(*h) == call =>
                    {
                        match state {
                            CallState::Connected if !connected => {
                                connected = true;
                                schedule.after_connect(*h, &common, &opts);
                            }
                            CallState::Ended | CallState::Failed if outcome.is_none() => {
                                outcome = Some(if *state == CallState::Ended && connected {
                                    Ok(())
                                } else {
                                    Err(format!("call failed: {}", status_line(*status, reason.as_deref())))
                                });
                                phone.send(Command::Shutdown);
                            }
                            _ => {}
                        }
                    }
                    PhoneEvent::Stopped => break,
                    _ => {}
                }
            }
            cmd = schedule.next() => { phone.send(cmd); }
            _ = tokio::time::sleep_until(give_up), if !connected && outcome.is_none() => {
                outcome = Some(Err(format!("call failed: no answer within {timeout} s")));
                if let Some(h) = call { phone.send(Command::Hangup(h)); }
                phone.send(Command::Shutdown);
            }
            _ = signals.recv(), if outcome.is_none() => {
                outcome = Some(if connected { Ok(()) } else { Err("call failed: interrupted".into()) });
                phone.send(Command::Shutdown);
            }
        }
    }
    outcome.unwrap_or_else(|| Err("call failed: the phone stopped".into()))
}

async fn answer(
    common: Common,
    peer: PeerOptions,
    opts: CallOptions,
    max_calls: Option<u32>,
    reject: Option<u16>,
    answer_after: f64,
) -> Result<(), String> {
    let (config, has_account) = peer_config(&peer)?;
    let mut phone = start(config, &common, "").await?;
    let out = Output::new(common.json, "");
    if has_account {
        wait_registered(&mut phone, &out).await?;
    }
    let mut schedule = Schedule::default();
    let mut finished = 0u32;
    let mut stopping = false;
    let mut signals = Signals::new()?;
    loop {
        tokio::select! {
            ev = phone.events.recv() => {
                let Some(ev) = ev else { break };
                out.event(&ev);
                if let Some(cmd) = auto_confirm(&ev, &peer) {
                    phone.send(cmd);
                }
                match &ev {
                    PhoneEvent::Ua(UaEvent::Call { call, state, .. }) => match state {
                        CallState::Incoming => match reject {
                            Some(code) => { phone.send(Command::Reject(*call, code)); }
                            None => schedule.at(Instant::now() + secs(answer_after), Command::Answer(*call)),
                        },
                        CallState::Connected => schedule.after_connect(*call, &common, &opts),
                        CallState::Ended | CallState::Failed => {
                            schedule.forget(*call);
                            finished += 1;
                            if max_calls.is_some_and(|n| finished >= n) && !stopping {
                                stopping = true;
                                phone.send(Command::Shutdown);
                            }
                        }
                        _ => {}
                    },
                    PhoneEvent::Stopped => break,
                    _ => {}
                }
            }
            cmd = schedule.next() => { phone.send(cmd); }
            _ = signals.recv(), if !stopping => {
                stopping = true;
                phone.send(Command::Shutdown);
            }
        }
    }
    Ok(())
}

// ---- helpers ----

/// With --confirm-sas: confirm a ZRTP SAS that is not verified yet.
fn auto_confirm(ev: &PhoneEvent, peer: &PeerOptions) -> Option<Command> {
    match ev {
        PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info })
            if peer.confirm_sas && !info.verified =>
        {
            Some(Command::ConfirmSas(*call))
        }
        _ => None,
    }
}

fn peer_config(peer: &PeerOptions) -> Result<(PhoneConfig, bool), String> {
    let account = match &peer.account {
        Some(path) => Some(AccountSettings::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let has_account = account.is_some();
    let mut config = PhoneConfig {
        account,
        bind: peer.bind,
        transport: peer.transport.into(),
        ..PhoneConfig::default()
    };
    config.tls.ca_file = peer.ca_file.clone();
    config.tls.accept_any_certificate = peer.insecure_tls;
    config.network = match peer.network {
        NetworkArg::Wifi => NetworkKind::Wifi,
        NetworkArg::Mobile => NetworkKind::Mobile,
    };
    if let Some(e) = peer.media_encryption {
        config.encryption = match e {
            EncryptionArg::None => MediaEncryption::None,
            EncryptionArg::Srtp => MediaEncryption::SrtpMandatory,
            EncryptionArg::SrtpOptional => MediaEncryption::SrtpOptional,
            EncryptionArg::Zrtp => MediaEncryption::Zrtp,
            EncryptionArg::ZrtpOptional => MediaEncryption::ZrtpOptional,
        };
        // The command line wins over the account file.
        if let Some(a) = config.account.as_mut() {
            a.media_encryption = None;
        }
    }
    config.allow_insecure_sdes = peer.allow_insecure_sdes;
    config.data_dir = peer.data_dir.clone();
    config.zrtp_sas = match peer.zrtp_sas {
        SasArg::B32 => SasType::B32,
        SasArg::B256 => SasType::B256,
    };
    config.audio.play = peer.play.clone();
    config.audio.record = peer.record.clone();
    config.only_codec = peer.codec.map(|codec| {
        match codec {
            CodecArg::Opus => "opus",
            CodecArg::Pcmu => "PCMU",
            CodecArg::Pcma => "PCMA",
        }
        .to_string()
    });
    Ok((config, has_account))
}

async fn start(config: PhoneConfig, common: &Common, who: &str) -> Result<Phone, String> {
    let _ = (common, who);
    Phone::start(config)
        .await
        .map_err(|e| format!("sipher: {e}"))
}

async fn wait_registered(phone: &mut Phone, out: &Output) -> Result<(), String> {
    phone.send(Command::Register);
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        tokio::select! {
            ev = phone.events.recv() => {
                let Some(ev) = ev else { return Err("registration failed: the phone stopped".into()) };
                out.event(&ev);
                if let PhoneEvent::Ua(UaEvent::Registration { state, status, reason, .. }) = &ev {
                    match state {
                        RegState::Registered => return Ok(()),
                        RegState::Failed => {
                            phone.send(Command::Shutdown);
                            drain_until_stopped(phone, out).await;
                            return Err(format!("registration failed: {}", status_line(*status, reason.as_deref())));
                        }
                        _ => {}
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                return Err("registration failed: no answer within 40 s".into());
            }
        }
    }
}

async fn drain_until_stopped(phone: &mut Phone, out: &Output) {
    let deadline = Instant::now() + Duration::from_secs(6);
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, phone.events.recv()).await {
        out.event(&ev);
        if ev == PhoneEvent::Stopped {
            break;
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.0, 86_400.0))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Commands due at given times.
#[derive(Default)]
struct Schedule(Vec<(Instant, Command)>);

impl Schedule {
    fn at(&mut self, when: Instant, cmd: Command) {
        self.0.push((when, cmd));
    }

    /// Hold/resume/hang-up timers of a call that just connected.
    fn after_connect(&mut self, call: CallHandle, common: &Common, opts: &CallOptions) {
        let now = Instant::now();
        if let Some(h) = opts.hold_at {
            self.at(now + secs(h), Command::Hold(call));
        }
        if let Some(r) = opts.resume_at {
            self.at(now + secs(r), Command::Resume(call));
        }
        if let Some(d) = common.duration {
            self.at(now + secs(d), Command::Hangup(call));
        }
        if let Some(digits) = &opts.dtmf {
            self.at(
                now + secs(opts.dtmf_at),
                Command::Dtmf(call, digits.clone()),
            );
        }
    }

    fn forget(&mut self, call: CallHandle) {
        self.0.retain(|(_, c)| {
            !matches!(c, Command::Answer(h) | Command::Hold(h) | Command::Resume(h) | Command::Hangup(h) | Command::Dtmf(h, _) if *h == call)
        });
    }

    /// Waits for the earliest command and takes it out.
    async fn next(&mut self) -> Command {
        let Some(i) = (0..self.0.len()).min_by_key(|&i| self.0[i].0) else {
            return std::future::pending().await;
        };
        tokio::time::sleep_until(self.0[i].0).await;
        self.0.remove(i).1
    }
}

/// SIGINT/SIGTERM.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, String> {
        Ok(Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| format!("sipher: cannot watch SIGTERM: {e}"))?,
        })
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
