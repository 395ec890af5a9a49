//! `sipher`: the host command-line softphone. Users run it against their own servers; tests
//! and benchmarks drive it with `--json`.

#![allow(clippy::disallowed_methods)] // the CLI drives real time

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use tokio::time::Instant;

use sipher::engine::media::MediaEvent;
use sipher::engine::{AccountSettings, Command, NetworkKind, Phone, PhoneConfig, PhoneEvent};
use sipher::sip::ua::{CallHandle, CallState, MediaEncryption, RegState, UaEvent};
use sipher::sip::{Transport, Uri};
use sipher::zrtp::algorithms::CipherAlgorithm;
use sipher::zrtp::session::SecureInfo as ZrtpSecureInfo;

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
    /// Media encryption: none, srtp (mandatory: no call without it) or srtp-optional.
    #[arg(long, value_enum)]
    media_encryption: Option<EncryptionArg>,
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
            Mode::Demo { json, play, record } => demo(json, play, record).await,
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

/// Two phones on loopback: Alice calls Bob and speaks, Bob answers and records, Alice holds
/// and resumes, Bob hangs up.
async fn demo(json: bool, play: Option<PathBuf>, record: Option<PathBuf>) -> Result<(), String> {
    let play = play.unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assets/demo-speech.wav"
        ))
    });
    let record = record.unwrap_or_else(|| std::env::temp_dir().join("sipher-demo-bob.wav"));
    let common = Common {
        json,
        duration: None,
    };
    // ZRTP end to end: nobody on the path, not even a server, can listen; the users compare
    // the SAS by voice.
    let mut bob_config = PhoneConfig {
        encryption: MediaEncryption::Zrtp,
        ..PhoneConfig::default()
    };
    bob_config.audio.record = Some(record.clone());
    let mut alice_config = PhoneConfig {
        encryption: MediaEncryption::Zrtp,
        ..PhoneConfig::default()
    };
    if play.exists() {
        alice_config.audio.play = Some(play.clone());
    }
    let mut bob = start(bob_config, &common, "bob").await?;
    let mut alice = start(alice_config, &common, "alice").await?;
    let bob_addr = bob
        .local_addr(Transport::Udp)
        .ok_or("sipher: bob has no UDP address")?;
    let (out_a, out_b) = (Output::new(json, "alice"), Output::new(json, "bob"));
    if !json {
        line("Sipher demo: two phones on loopback, no server.");
        line(&format!(
            "alice calls bob at sip:bob@{bob_addr} over ZRTP and speaks ({}); bob answers and records; \
             alice holds and resumes; bob hangs up.",
            if play.exists() {
                play.display().to_string()
            } else {
                "silence: no speech file".into()
            }
        ));
    }
    let uri = Uri::parse(&format!("sip:bob@{bob_addr}")).map_err(|e| e.to_string())?;
    alice.send(Command::Call(uri));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(40);
    let mut schedule = Schedule::default();
    let mut seen_a: Vec<CallState> = Vec::new();
    let mut seen_b: Vec<CallState> = Vec::new();
    let mut alice_call = None;
    let (mut sas_a, mut sas_b): (Option<String>, Option<String>) = (None, None);
    let (mut a_done, mut b_done) = (false, false);
    while !(a_done && b_done) {
        tokio::select! {
            ev = alice.events.recv() => {
                let Some(ev) = ev else { break };
                out_a.event(&ev);
                match &ev {
                    PhoneEvent::Ua(UaEvent::Call { call, state, .. }) => {
                        seen_a.push(*state);
                        match state {
                            CallState::Connected => {
                                alice_call = Some(*call);
                                if !play.exists() {
                                    schedule.at(Instant::now() + secs(1.0), Command::Hold(*call));
                                }
                            }
                            CallState::Ended | CallState::Failed => { alice.send(Command::Shutdown); }
                            _ => {}
                        }
                    }
                    PhoneEvent::Media(MediaEvent::ZrtpSecure { info, .. }) => sas_a = Some(info.sas.clone()),
                    PhoneEvent::Media(MediaEvent::PlayFinished { call }) if alice_call == Some(*call) => {
                        schedule.at(Instant::now() + secs(0.5), Command::Hold(*call));
                    }
                    PhoneEvent::Stopped => a_done = true,
                    _ => {}
                }
            }
            ev = bob.events.recv() => {
                let Some(ev) = ev else { break };
                out_b.event(&ev);
                match &ev {
                    PhoneEvent::Media(MediaEvent::ZrtpSecure { info, .. }) => sas_b = Some(info.sas.clone()),
                    PhoneEvent::Ua(UaEvent::Call { call, state, .. }) => {
                        seen_b.push(*state);
                        match state {
                            CallState::Incoming => { bob.send(Command::Answer(*call)); }
                            CallState::RemoteHold => {
                                if let Some(a) = alice_call {
                                    schedule.at(Instant::now() + secs(1.0), Command::Resume(a));
                                }
                            }
                            CallState::Resumed => {
                                schedule.at(Instant::now() + secs(1.0), Command::Hangup(*call));
                            }
                            CallState::Ended | CallState::Failed => { bob.send(Command::Shutdown); }
                            _ => {}
                        }
                    }
                    PhoneEvent::Stopped => b_done = true,
                    _ => {}
                }
            }
            cmd = schedule.next() => {
                // Hold/resume are Alice's; the hang-up is Bob's.
                match cmd {
                    Command::Hangup(_) => bob.send(cmd),
                    _ => alice.send(cmd),
                };
            }
            _ = tokio::time::sleep_until(deadline) => {
                return Err("demo failed: it did not finish within 40 s".into());
            }
        }
    }
    let expected_a = [
        CallState::Ringing,
        CallState::Connected,
        CallState::Held,
        CallState::Resumed,
        CallState::Ended,
    ];
    let expected_b = [
        CallState::Incoming,
        CallState::Connected,
        CallState::RemoteHold,
        CallState::Resumed,
        CallState::Ended,
    ];
    let sas_equal = sas_a.is_some() && sas_a == sas_b;
    let ok = expected_a.iter().all(|s| seen_a.contains(s))
        && expected_b.iter().all(|s| seen_b.contains(s))
        && sas_equal;
    let heard = recording_summary(&record);
    if !json {
        line(&format!(
            "SAS shown to alice: {}, to bob: {} ({})",
            sas_a.as_deref().unwrap_or("none"),
            sas_b.as_deref().unwrap_or("none"),
            if sas_equal {
                "equal: no one in the middle"
            } else {
                "NOT EQUAL"
            }
        ));
        line(&format!(
            "bob recorded what he heard to {}: {heard}",
            record.display()
        ));
        let verdict = if ok {
            "finished"
        } else {
            "did not go as planned"
        };
        line(&format!(
            "demo {verdict} in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    if ok {
        Ok(())
    } else {
        Err(format!(
            "demo failed: alice saw {seen_a:?}, bob saw {seen_b:?}, SAS {sas_a:?} / {sas_b:?}"
        ))
    }
}

/// Length and speech level of a recording, for the demo's last words.
fn recording_summary(path: &std::path::Path) -> String {
    let Ok(mut reader) = hound::WavReader::open(path) else {
        return "no recording".into();
    };
    let rate = reader.spec().sample_rate.max(1);
    let samples: Vec<i16> = reader.samples::<i16>().filter_map(Result::ok).collect();
    let secs = samples.len() as f64 / f64::from(rate);
    let loud = samples.chunks(960).filter(|c| rms(c) > 300.0).count();
    format!(
        "{secs:.1} s, {:.1} s of it with sound, level {:.0} dBFS",
        loud as f64 * 0.02,
        20.0 * (rms(&samples).max(1.0) / 32768.0).log10()
    )
}

fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    (pcm.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt()
}

// ---- helpers ----

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

fn status_line(status: Option<u16>, reason: Option<&str>) -> String {
    match (status, reason) {
        (Some(s), Some(r)) => format!("{s} {r}"),
        (Some(s), None) => s.to_string(),
        (None, Some(r)) => r.to_string(),
        (None, None) => "unknown reason".to_string(),
    }
}

/// When the process started, for event time stamps.
fn started() -> std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *START.get_or_init(std::time::Instant::now)
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

/// Prints events, human-readable or as JSON lines.
struct Output {
    json: bool,
    who: &'static str,
}

impl Output {
    fn new(json: bool, who: &'static str) -> Output {
        Output { json, who }
    }

    fn event(&self, ev: &PhoneEvent) {
        if self.json {
            if let Some(mut v) = json_event(ev) {
                v["t_ms"] = json!(started().elapsed().as_millis() as u64);
                if !self.who.is_empty() {
                    v["phone"] = json!(self.who);
                }
                line(&v.to_string());
            }
        } else if let Some(text) = human_event(ev) {
            if self.who.is_empty() {
                line(&text);
            } else {
                line(&format!("{:>5}: {text}", self.who));
            }
        }
    }
}

/// Prints a line and flushes it (tests read events as they happen). A closed stdout (e.g. the
/// reader went away) must not bring the phone down.
fn line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|_| out.flush());
}

fn json_event(ev: &PhoneEvent) -> Option<serde_json::Value> {
    Some(match ev {
        PhoneEvent::Listening { transport, addr } => json!({
            "event": "listening", "transport": transport.as_str().to_ascii_lowercase(), "addr": addr.to_string()
        }),
        PhoneEvent::Ua(UaEvent::Registration {
            state,
            status,
            reason,
            expires,
        }) => json!({
            "event": "registration", "state": state.as_str(), "status": status, "reason": reason, "expires": expires
        }),
        PhoneEvent::Ua(UaEvent::Call {
            call,
            state,
            status,
            reason,
            peer,
            by,
        }) => json!({
            "event": "call", "call": call.0, "state": state.as_str(), "status": status, "reason": reason,
            "peer": peer, "by": by.map(|b| b.as_str())
        }),
        PhoneEvent::Ua(UaEvent::Media { call, media, srtp }) => json!({
            "event": "media", "call": call.0, "codec": media.codec.name, "clock_rate": media.codec.clock_rate,
            "payload_type": media.codec.payload_type.get(), "remote_rtp": media.remote_rtp.to_string(),
            "direction": media.local_direction.as_str(),
            "srtp": srtp.as_ref().and_then(|k| k.profile.sdes_name())
        }),
        PhoneEvent::Ua(UaEvent::Security { call, info }) => json!({
            "event": "security", "call": call.0, "mode": info.mode, "suite": info.suite,
            "tls_first_hop": info.tls_first_hop, "insecure": info.insecure, "reason": info.reason,
            "badge": info.badge, "signalling_badge": info.signalling_badge
        }),
        PhoneEvent::Ua(UaEvent::Malformed { source, reason }) => json!({
            "event": "malformed", "source": source.to_string(), "reason": reason
        }),
        PhoneEvent::Warning(message) => json!({ "event": "warning", "message": message }),
        PhoneEvent::Media(MediaEvent::Quality { call, figures }) => {
            let (r, j) = (&figures.report, &figures.jitter);
            json!({
                "event": "quality", "call": call.0, "mos": r.mos, "loss": r.loss_fraction,
                "cumulative_lost": r.cumulative_lost, "jitter_ms": r.jitter_ms, "rtt_ms": r.rtt_ms,
                "packets_sent": figures.packets_sent, "packets_received": figures.packets_received,
                "jb_delay_ms": j.current_delay.as_secs_f64() * 1000.0,
                "jb_target_ms": j.target_delay.as_secs_f64() * 1000.0,
                "late": j.late, "lost": j.lost, "concealed": j.concealed, "played": j.played
            })
        }
        PhoneEvent::Media(MediaEvent::Dtmf { call, digit }) => {
            json!({ "event": "dtmf", "call": call.0, "digit": digit.to_string() })
        }
        PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info }) => json!({
            "event": "security", "call": call.0, "mode": "zrtp", "sas": info.sas,
            "cipher": zrtp_cipher_name(info.cipher), "key_agreement": info.key_agreement.id().to_string(),
            "badge": zrtp_badge(info), "verified": false, "status": "ZRTP - Not verified",
            "pbx": info.pbx_peer, "auth_tag": info.auth_tag.id().to_string(),
            "hash": info.hash.id().to_string(), "insecure": false
        }),
        PhoneEvent::Media(MediaEvent::ZrtpFailed { call, reason }) => json!({
            "event": "security", "call": call.0, "mode": "failed", "reason": reason, "insecure": true,
            "badge": "ZRTP failed: not encrypted"
        }),
        PhoneEvent::Media(MediaEvent::PlayFinished { call }) => {
            json!({ "event": "play_finished", "call": call.0 })
        }
        PhoneEvent::Media(MediaEvent::Error { call, error }) => {
            json!({ "event": "error", "call": call.0, "error": error })
        }
        PhoneEvent::CallPlaced { call, uri } => {
            json!({ "event": "call_placed", "call": call.0, "uri": uri })
        }
        PhoneEvent::CommandFailed { command, error } => json!({
            "event": "error", "command": command, "error": error
        }),
        PhoneEvent::Ua(UaEvent::KeepAlive { .. }) | PhoneEvent::Stopped => return None,
    })
}

/// The cipher as CSipSimple shows it.
fn zrtp_cipher_name(c: CipherAlgorithm) -> &'static str {
    match c {
        CipherAlgorithm::Aes1 => "AES-128",
        CipherAlgorithm::Aes3 => "AES-256",
        CipherAlgorithm::Twofish1 => "TwoFish-128",
        CipherAlgorithm::Twofish3 => "Twofish-256",
    }
}

/// CSipSimple's badge: "AES-256/EC25", with "/EndAtMitM" when the peer is a PBX.
fn zrtp_badge(info: &ZrtpSecureInfo) -> String {
    let mut b = format!(
        "{}/{}",
        zrtp_cipher_name(info.cipher),
        info.key_agreement.id()
    );
    if info.pbx_peer {
        b += "/EndAtMitM";
    }
    b
}

fn human_event(ev: &PhoneEvent) -> Option<String> {
    Some(match ev {
        PhoneEvent::Listening { transport, addr } => format!("listening on {addr} ({transport})"),
        PhoneEvent::Ua(UaEvent::Registration {
            state,
            status,
            reason,
            expires,
        }) => {
            let mut s = format!("registration: {}", state.as_str());
            if status.is_some() || reason.is_some() {
                s += &format!(" ({})", status_line(*status, reason.as_deref()));
            }
            if let (RegState::Registered, Some(e)) = (state, expires) {
                s += &format!(", expires in {e} s");
            }
            s
        }
        PhoneEvent::Ua(UaEvent::Call {
            call,
            state,
            status,
            reason,
            peer,
            by,
        }) => {
            let mut s = format!("call {call}: {}", state.as_str().replace('_', " "));
            if matches!(state, CallState::Incoming | CallState::Calling) {
                s += &format!(" ({peer})");
            }
            if let Some(b) = by {
                s += &format!(" by {}", b.as_str());
            }
            if status.is_some() || reason.is_some() {
                s += &format!(" ({})", status_line(*status, reason.as_deref()));
            }
            s
        }
        PhoneEvent::Ua(UaEvent::Media { call, media, .. }) => format!(
            "call {call}: media {}/{} to {} ({})",
            media.codec.name,
            media.codec.clock_rate,
            media.remote_rtp,
            media.local_direction.as_str()
        ),
        PhoneEvent::Ua(UaEvent::Malformed { source, reason }) => {
            format!("malformed message from {source}: {reason}")
        }
        PhoneEvent::CommandFailed { error, .. } => format!("error: {error}"),
        PhoneEvent::Warning(message) => format!("WARNING: {message}"),
        PhoneEvent::Ua(UaEvent::Security { call, info }) => {
            let mut t = format!("call {call}: security: {}", info.badge);
            if let Some(suite) = &info.suite {
                t += &format!(" ({suite})");
            }
            if let Some(sig) = &info.signalling_badge {
                t += &format!("; {sig}");
            }
            if let (true, Some(why)) = (info.insecure, &info.reason) {
                t += &format!("; INSECURE: {why}");
            }
            t
        }
        PhoneEvent::Media(MediaEvent::Quality { call, figures }) => format!(
            "call {call}: quality MOS {:.1}, loss {:.1} %, jitter {:.0} ms, buffer {:.0} ms",
            figures.report.mos,
            figures.report.loss_fraction * 100.0,
            figures.report.jitter_ms,
            figures.jitter.current_delay.as_secs_f64() * 1000.0
        ),
        PhoneEvent::Media(MediaEvent::Dtmf { call, digit }) => format!("call {call}: DTMF {digit}"),
        PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info }) => format!(
            "call {call}: security: ZRTP - Not verified, SAS {} ({}) — compare it by voice",
            info.sas,
            zrtp_badge(info)
        ),
        PhoneEvent::Media(MediaEvent::ZrtpFailed { call, reason }) => {
            format!("call {call}: security: ZRTP FAILED, not encrypted: {reason}")
        }
        PhoneEvent::Media(MediaEvent::PlayFinished { call }) => format!("call {call}: file played"),
        PhoneEvent::Media(MediaEvent::Error { call, error }) => {
            format!("call {call}: media error: {error}")
        }
        _ => return None,
    })
}
