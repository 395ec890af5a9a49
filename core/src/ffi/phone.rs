//! The `Phone` object: a tokio runtime of its own, the accounts, and the engine for the active
//! account (or peer to peer when none is enabled).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};
use tokio::sync::mpsc;

use super::accounts::AccountStore;
use super::observers::{self, lock, Hub, ObserverHandle, PhoneObserver, SharedHub};
use super::types::*;
use super::PhoneError;
use crate::engine::{self, Command, PhoneConfig};
use crate::sip::{Transport, Uri};

/// The phone (`Phone` in Kotlin). Start it with a data directory, add accounts, observe, call.
/// Blocking methods (start, stop, account changes) may take seconds: call them off the UI thread.
#[derive(uniffi::Object)]
pub struct Phone {
    handle: Handle,
    runtime: Mutex<Option<Runtime>>,
    settings: PhoneSettings,
    data_dir: PathBuf,
    network: Mutex<NetworkType>,
    accounts: Mutex<AccountStore>,
    engine: Mutex<Option<RunningEngine>>,
    hub: SharedHub,
    generation: std::sync::atomic::AtomicU64,
}

struct RunningEngine {
    generation: u64,
    commands: mpsc::UnboundedSender<Command>,
    local: Vec<(Transport, SocketAddr)>,
    account: Option<String>,
    pump: tokio::task::JoinHandle<()>,
}

/// How long the engine gets to hang up, un-register and stop (its own limit is 5 s).
const STOP_WAIT: Duration = Duration::from_secs(8);
/// How long `register` and `call` wait for the engine's answer.
const REGISTER_WAIT: Duration = Duration::from_secs(40);
const CALL_WAIT: Duration = Duration::from_secs(5);

#[uniffi::export]
impl Phone {
    /// Starts the phone: its runtime, then the engine with the first enabled account (which
    /// registers at once), or peer to peer. An account that cannot start (say its server does
    /// not resolve) does not fail this: the registration then says `FAILED`.
    #[uniffi::constructor]
    pub fn start(settings: PhoneSettings) -> Result<Arc<Phone>, PhoneError> {
        let data_dir = PathBuf::from(&settings.data_dir);
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| PhoneError::storage(format!("{}: {e}", data_dir.display())))?;
        settings
            .bind_address
            .parse::<IpAddr>()
            .map_err(|e| PhoneError::invalid("bind_address", e))?;
        let accounts = AccountStore::open(&data_dir)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sipher-core")
            .enable_all()
            .build()
            .map_err(|e| PhoneError::Internal {
                detail: format!("cannot start the runtime: {e}"),
            })?;
        let phone = Arc::new(Phone {
            handle: runtime.handle().clone(),
            runtime: Mutex::new(Some(runtime)),
            network: Mutex::new(settings.network),
            settings,
            data_dir,
            accounts: Mutex::new(accounts),
            engine: Mutex::new(None),
            hub: Arc::new(Mutex::new(Hub::default())),
            generation: Default::default(),
        });
        let mut engine = phone.lock_engine();
        match phone.start_engine(&mut engine) {
            Ok(()) => {}
            // The account's fault: it shows in the registration and can be edited.
            Err(e) if engine.is_none() && phone.lock_accounts().active().is_some() => {
                tracing::warn!("engine did not start: {e}");
            }
            Err(e) => return Err(e),
        }
        drop(engine);
        Ok(phone)
    }

    /// Hangs up, un-registers and stops the engine (bounded, about 8 s at most), then the
    /// runtime. Further calls fail with `NotRunning`. Idempotent.
    pub fn stop(&self) {
        let mut engine = self.lock_engine();
        self.stop_engine(&mut engine);
        drop(engine);
        let runtime = self
            .runtime
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(rt) = runtime {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }

    /// A SIP URI other phones can call us at directly (peer to peer), e.g.
    /// `sip:sipher@192.0.2.7:5062`. None when stopped or bound to no single address.
    pub fn local_uri(&self) -> Option<String> {
        let engine = self.lock_engine();
        let engine = engine.as_ref()?;
        let (transport, addr) = engine.local.first()?;
        if addr.ip().is_unspecified() {
            return None;
        }
        let user = engine
            .account
            .as_ref()
            .and_then(|id| {
                self.lock_accounts()
                    .list()
                    .iter()
                    .find(|a| &a.id == id)
                    .cloned()
            })
            .map_or_else(|| "sipher".to_string(), |a| a.config.user);
        let mut uri = format!("sip:{user}@{addr}");
        if *transport != Transport::Udp {
            uri += &format!(";transport={}", transport.as_str().to_ascii_lowercase());
        }
        Some(uri)
    }

    // --- accounts ---

    pub fn accounts(&self) -> Vec<Account> {
        let engine = self.lock_engine();
        let active = engine.as_ref().and_then(|e| e.account.clone());
        self.lock_accounts()
            .list()
            .iter()
            .map(|a| Account {
                id: a.id.clone(),
                config: a.config.clone(),
                active: active.as_deref() == Some(a.id.as_str()),
            })
            .collect()
    }

    /// Stores an account and returns its id. When it becomes the active account the engine
    /// restarts with it (calls in progress end) and it registers. If the engine then cannot
    /// start (e.g. the server does not resolve) the account stays stored, the error is
    /// returned and the registration says `FAILED`/`UNREACHABLE`; the next account change or
    /// `network_changed` tries again.
    pub fn add_account(&self, config: AccountConfig) -> Result<String, PhoneError> {
        self.change_accounts(|store| store.add(config))
    }

    pub fn update_account(&self, id: String, config: AccountConfig) -> Result<(), PhoneError> {
        self.change_accounts(|store| store.update(&id, config))
    }

    pub fn remove_account(&self, id: String) -> Result<(), PhoneError> {
        self.change_accounts(|store| store.remove(&id))
    }

    // --- registration ---

    pub fn registration(&self) -> RegistrationInfo {
        lock(&self.hub).registration()
    }

    /// Registers the active account (again) and waits for the registrar's verdict: returns
    /// the registration, or throws `WrongCredentials` / `RegistrationFailed`.
    pub async fn register(&self) -> Result<RegistrationInfo, PhoneError> {
        let answer = {
            let engine = self.lock_engine();
            let engine = engine.as_ref().ok_or(PhoneError::NotRunning)?;
            if engine.account.is_none() {
                return Err(PhoneError::AccountNotFound {
                    id: "(no enabled account)".into(),
                });
            }
            let answer = lock(&self.hub).wait_registration();
            send(engine, Command::Register)?;
            answer
        };
        let info = self.wait(answer, REGISTER_WAIT, "registration").await?;
        match info.error() {
            Some(e) => Err(e),
            None => Ok(info),
        }
    }

    pub fn unregister(&self) -> Result<(), PhoneError> {
        self.command(Command::Unregister)
    }

    /// Tells the engine the device moved to another network (Android's network callback):
    /// it re-registers and refreshes the calls. A new network type also switches the codec
    /// list: at once when no call is up (the engine restarts), else at the next restart. When
    /// the engine is not running (its account could not start), it is started again.
    pub fn network_changed(&self, network: NetworkType) -> Result<(), PhoneError> {
        let old = std::mem::replace(
            &mut *self.network.lock().unwrap_or_else(|p| p.into_inner()),
            network,
        );
        let mut engine = self.lock_engine();
        // No engine (its account could not start before): the new network may let it.
        if engine.is_none() || (old != network && lock(&self.hub).calls().is_empty()) {
            self.stop_engine(&mut engine);
            return self.start_engine(&mut engine);
        }
        send(
            engine.as_ref().ok_or(PhoneError::NotRunning)?,
            Command::NetworkChanged,
        )
    }

    // --- calls ---

    pub fn calls(&self) -> Vec<CallInfo> {
        lock(&self.hub).calls()
    }

    /// Calls a SIP URI (`sip:1001@example.org`, or `sip:bob@192.0.2.7:5062` peer to peer)
    /// and returns the call's id.
    pub async fn call(&self, uri: String) -> Result<u64, PhoneError> {
        let uri = Uri::parse(uri.trim()).map_err(|e| PhoneError::invalid("SIP URI", e))?;
        let answer = {
            let engine = self.lock_engine();
            let engine = engine.as_ref().ok_or(PhoneError::NotRunning)?;
            let answer = lock(&self.hub).wait_call(engine.generation);
            send(engine, Command::Call(uri))?;
            answer
        };
        self.wait(answer, CALL_WAIT, "call").await?
    }

    pub fn answer(&self, call: u64) -> Result<(), PhoneError> {
        self.call_command(call, Command::Answer)
    }

    /// Declines an incoming call (603 Decline).
    pub fn reject(&self, call: u64) -> Result<(), PhoneError> {
        self.call_command(call, |h| Command::Reject(h, 603))
    }

    pub fn hangup(&self, call: u64) -> Result<(), PhoneError> {
        self.call_command(call, Command::Hangup)
    }

    pub fn hold(&self, call: u64) -> Result<(), PhoneError> {
        self.call_command(call, Command::Hold)
    }

    pub fn resume(&self, call: u64) -> Result<(), PhoneError> {
        self.call_command(call, Command::Resume)
    }

    /// Mutes (sends silence) or unmutes our microphone on a call.
    pub fn set_muted(&self, call: u64, muted: bool) -> Result<(), PhoneError> {
        self.call_command(call, |h| Command::Mute(h, muted))?;
        lock(&self.hub).set_muted(call, muted);
        Ok(())
    }

    /// Sends DTMF digits (`0-9`, `*`, `#`, `A-D`) on a connected call.
    pub fn send_dtmf(&self, call: u64, digits: String) -> Result<(), PhoneError> {
        if digits.is_empty()
            || !digits
                .chars()
                .all(|c| c.is_ascii_digit() || "*#ABCDabcd".contains(c))
        {
            return Err(PhoneError::invalid("DTMF digits", format!("{digits:?}")));
        }
        self.call_command(call, |h| Command::Dtmf(h, digits))
    }

    /// The users compared the SAS by voice and it matched: the peer is remembered as verified.
    pub fn confirm_sas(&self, call: u64) -> Result<(), PhoneError> {
        self.call_command(call, Command::ConfirmSas)
    }

    /// Forgets that the call's peer was verified.
    pub fn revoke_sas(&self, call: u64) -> Result<(), PhoneError> {
        self.call_command(call, Command::RevokeSas)
    }

    // --- events ---

    /// Subscribes an observer: it gets the current registration and calls at once, then every
    /// event, until the returned handle is cancelled, closed or dropped.
    pub fn observe(
        &self,
        observer: Box<dyn PhoneObserver>,
    ) -> Result<Arc<ObserverHandle>, PhoneError> {
        observers::subscribe(&self.hub, observer)
    }
}

impl Drop for Phone {
    /// Without `stop()` first the engine still gets a short, bounded chance to hang up.
    fn drop(&mut self) {
        let engine = self.engine.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = engine.take() {
            let _ = e.commands.send(Command::Shutdown);
            if Handle::try_current().is_err() {
                // Timers are made inside the runtime (async block), not on this thread.
                let _ = self
                    .handle
                    .block_on(async { tokio::time::timeout(Duration::from_secs(2), e.pump).await });
            }
        }
        if let Some(rt) = self
            .runtime
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            rt.shutdown_background();
        }
    }
}

impl Phone {
    fn lock_engine(&self) -> std::sync::MutexGuard<'_, Option<RunningEngine>> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_accounts(&self) -> std::sync::MutexGuard<'_, AccountStore> {
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_running(&self) -> bool {
        self.runtime
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Starts an engine for the active account (or peer to peer) into `slot`, which is empty.
    fn start_engine(&self, slot: &mut Option<RunningEngine>) -> Result<(), PhoneError> {
        if !self.is_running() {
            return Err(PhoneError::NotRunning);
        }
        let active = self.lock_accounts().active().cloned();
        let generation = 1 + self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let account_id = active.as_ref().map(|a| a.id.clone());
        let bind_ip: IpAddr = self
            .settings
            .bind_address
            .parse()
            .map_err(|e| PhoneError::invalid("bind_address", e))?;
        let config = PhoneConfig {
            account: active
                .as_ref()
                .map(|a| a.config.to_settings())
                .transpose()?,
            bind: SocketAddr::new(bind_ip, self.settings.sip_port),
            transport: self.settings.transport.into(),
            encryption: self.settings.media_encryption.into(),
            network: (*self.network.lock().unwrap_or_else(|p| p.into_inner())).into(),
            data_dir: Some(self.data_dir.clone()),
            zrtp_sas: self.settings.sas_rendering.into(),
            ..PhoneConfig::default()
        };
        let mut registration = RegistrationInfo::no_account();
        if account_id.is_some() {
            registration.account_id = account_id.clone();
            registration.state = RegistrationState::Idle;
        }
        lock(&self.hub).engine_started(registration.clone());
        // The engine starts inside the runtime; a panic there comes back as a JoinError.
        let started = self
            .handle
            .block_on(self.handle.spawn(engine::Phone::start(config)));
        let phone = match started {
            Ok(Ok(phone)) => phone,
            Ok(Err(e)) => {
                let e = PhoneError::from(e);
                if account_id.is_some() {
                    registration.state = RegistrationState::Failed;
                    registration.failure = Some(RegistrationFailure::Unreachable);
                    registration.reason = Some(e.to_string());
                    lock(&self.hub).set_registration(registration);
                }
                return Err(e);
            }
            Err(join) => {
                return Err(PhoneError::Internal {
                    detail: format!("engine start: {join}"),
                })
            }
        };
        let engine::Phone {
            commands,
            mut events,
            local,
        } = phone;
        let hub = self.hub.clone();
        let account = account_id.clone();
        let pump = self.handle.spawn(async move {
            let mut stopped = false;
            while let Some(event) = events.recv().await {
                stopped |= matches!(event, engine::PhoneEvent::Stopped);
                lock(&hub).on_engine_event(generation, &account, event);
            }
            let error = (!stopped).then(|| "the engine stopped unexpectedly".to_string());
            lock(&hub).engine_stopped(generation, error);
        });
        let running = RunningEngine {
            generation,
            commands,
            local,
            account: account_id,
            pump,
        };
        if running.account.is_some() {
            send(&running, Command::Register)?;
        }
        *slot = Some(running);
        Ok(())
    }

    fn stop_engine(&self, slot: &mut Option<RunningEngine>) {
        let Some(engine) = slot.take() else {
            return;
        };
        let _ = engine.commands.send(Command::Shutdown);
        let abort = engine.pump.abort_handle();
        let waited = self
            .handle
            .block_on(async { tokio::time::timeout(STOP_WAIT, engine.pump).await });
        if waited.is_err() {
            tracing::warn!("the engine did not stop within {STOP_WAIT:?}");
            abort.abort();
            lock(&self.hub).engine_stopped(engine.generation, Some("stop timed out".into()));
        }
    }

    /// Applies an account change and restarts the engine when the active account changed.
    fn change_accounts<T>(
        &self,
        change: impl FnOnce(&mut AccountStore) -> Result<T, PhoneError>,
    ) -> Result<T, PhoneError> {
        if !self.is_running() {
            return Err(PhoneError::NotRunning);
        }
        let mut engine = self.lock_engine();
        let (before, result, after) = {
            let mut store = self.lock_accounts();
            let before = store.active().cloned();
            let result = change(&mut store)?;
            (before, result, store.active().cloned())
        };
        if before != after || engine.is_none() {
            self.stop_engine(&mut engine);
            self.start_engine(&mut engine)?;
        }
        Ok(result)
    }

    fn command(&self, command: Command) -> Result<(), PhoneError> {
        let engine = self.lock_engine();
        send(engine.as_ref().ok_or(PhoneError::NotRunning)?, command)
    }

    fn call_command(
        &self,
        call: u64,
        command: impl FnOnce(crate::sip::ua::CallHandle) -> Command,
    ) -> Result<(), PhoneError> {
        let engine = self.lock_engine();
        let engine = engine.as_ref().ok_or(PhoneError::NotRunning)?;
        match lock(&self.hub).handle_of(call) {
            Some((generation, handle)) if generation == engine.generation => {
                send(engine, command(handle))
            }
            _ => Err(PhoneError::NoSuchCall { call }),
        }
    }

    /// Waits for an answer of the engine, bounded.
    async fn wait<T>(
        &self,
        answer: tokio::sync::oneshot::Receiver<T>,
        limit: Duration,
        what: &str,
    ) -> Result<T, PhoneError> {
        // The future is polled by the foreign side, outside the runtime: the timer must be made
        // and run inside it.
        let mut deadline = self
            .handle
            .spawn(async move { tokio::time::sleep(limit).await });
        let result = tokio::select! {
            answer = answer => answer.map_err(|_| PhoneError::NotRunning),
            _ = &mut deadline => Err(PhoneError::Timeout {
                detail: format!("no answer to the {what} within {limit:?}"),
            }),
        };
        deadline.abort();
        result
    }
}

fn send(engine: &RunningEngine, command: Command) -> Result<(), PhoneError> {
    engine
        .commands
        .send(command)
        .map_err(|_| PhoneError::NotRunning)
}
