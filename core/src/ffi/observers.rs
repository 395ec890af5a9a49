//! Observers and the state they are shown: the engine's events are folded into the current
//! registration and calls, then queued to each observer, which runs on a thread of its own so
//! that a slow or throwing observer holds up nobody else.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex, Weak};

use tokio::sync::oneshot;

use super::error::ObserverError;
use super::types::*;
use super::PhoneError;
use crate::engine::media::MediaEvent;
use crate::engine::PhoneEvent as EngineEvent;
use crate::sip::ua::{CallHandle, UaEvent};

/// Receives the phone's events (`PhoneObserver` in Kotlin). Called on a thread of its own per
/// observer, never on the UI thread: post to it yourself. Exceptions thrown here are logged
/// and otherwise ignored.
#[uniffi::export(callback_interface)]
pub trait PhoneObserver: Send + Sync {
    fn on_event(&self, event: PhoneEvent) -> Result<(), ObserverError>;
}

/// Keeps an observer subscribed; `cancel()`, `close()` or dropping it unsubscribes.
#[derive(uniffi::Object)]
pub struct ObserverHandle {
    hub: Weak<Mutex<Hub>>,
    id: u64,
    cancelled: Arc<AtomicBool>,
}

#[uniffi::export]
impl ObserverHandle {
    /// Stops the deliveries: events still queued are dropped. Idempotent.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if let Some(hub) = self.hub.upgrade() {
            lock(&hub).observers.retain(|o| o.id != self.id);
        }
    }
}

impl Drop for ObserverHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The state shown to observers, the observers, and who waits for an engine answer.
#[derive(Default)]
pub(super) struct Hub {
    registration: Option<RegistrationInfo>,
    calls: BTreeMap<u64, CallInfo>,
    /// (engine generation, engine call handle) -> our call id.
    ids: HashMap<(u64, CallHandle), u64>,
    next_call: u64,
    observers: Vec<Slot>,
    next_observer: u64,
    registration_waiters: Vec<oneshot::Sender<RegistrationInfo>>,
    call_waiters: VecDeque<(u64, oneshot::Sender<Result<u64, PhoneError>>)>,
}

struct Slot {
    id: u64,
    events: std_mpsc::Sender<PhoneEvent>,
}

pub(super) type SharedHub = Arc<Mutex<Hub>>;

/// Locks the hub. Its invariants hold between statements, so a panic elsewhere while it was
/// held leaves it usable: take it back instead of spreading the panic.
pub(super) fn lock(hub: &Mutex<Hub>) -> std::sync::MutexGuard<'_, Hub> {
    hub.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Subscribes an observer: it gets the current state at once, then every event.
pub(super) fn subscribe(
    hub: &SharedHub,
    observer: Box<dyn PhoneObserver>,
) -> Result<Arc<ObserverHandle>, PhoneError> {
    let (tx, rx) = std_mpsc::channel::<PhoneEvent>();
    let cancelled = Arc::new(AtomicBool::new(false));
    let mut h = lock(hub);
    let id = h.next_observer;
    h.next_observer += 1;
    let flag = cancelled.clone();
    std::thread::Builder::new()
        .name(format!("sipher-observer-{id}"))
        .spawn(move || deliver(id, observer, rx, flag))
        .map_err(|e| PhoneError::Internal {
            detail: format!("cannot start an observer thread: {e}"),
        })?;
    // The snapshot and the registration happen under one lock: no event is missed or doubled.
    for event in h.snapshot() {
        let _ = tx.send(event);
    }
    h.observers.push(Slot { id, events: tx });
    Ok(Arc::new(ObserverHandle {
        hub: Arc::downgrade(hub),
        id,
        cancelled,
    }))
}

impl Hub {
    fn snapshot(&self) -> Vec<PhoneEvent> {
        let mut events = vec![PhoneEvent::Registration {
            info: self.registration(),
        }];
        events.extend(
            self.calls
                .values()
                .map(|c| PhoneEvent::Call { info: c.clone() }),
        );
        events
    }

    pub(super) fn registration(&self) -> RegistrationInfo {
        self.registration
            .clone()
            .unwrap_or_else(RegistrationInfo::no_account)
    }

    pub(super) fn calls(&self) -> Vec<CallInfo> {
        self.calls.values().cloned().collect()
    }

    pub(super) fn broadcast(&mut self, event: PhoneEvent) {
        // A closed channel means the observer's thread is gone: forget it.
        self.observers
            .retain(|o| o.events.send(event.clone()).is_ok());
    }

    /// A new engine (generation) runs, with this account or none.
    pub(super) fn engine_started(&mut self, registration: RegistrationInfo) {
        self.registration = Some(registration.clone());
        self.broadcast(PhoneEvent::Registration { info: registration });
    }

    pub(super) fn set_registration(&mut self, info: RegistrationInfo) {
        if matches!(
            info.state,
            RegistrationState::Registered | RegistrationState::Failed
        ) {
            for w in self.registration_waiters.drain(..) {
                let _ = w.send(info.clone());
            }
        }
        self.registration = Some(info.clone());
        self.broadcast(PhoneEvent::Registration { info });
    }

    pub(super) fn wait_registration(&mut self) -> oneshot::Receiver<RegistrationInfo> {
        let (tx, rx) = oneshot::channel();
        self.registration_waiters.push(tx);
        rx
    }

    pub(super) fn wait_call(
        &mut self,
        generation: u64,
    ) -> oneshot::Receiver<Result<u64, PhoneError>> {
        let (tx, rx) = oneshot::channel();
        self.call_waiters.push_back((generation, tx));
        rx
    }

    /// The engine generation and handle of one of our calls.
    pub(super) fn handle_of(&self, call: u64) -> Option<(u64, CallHandle)> {
        self.ids
            .iter()
            .find(|(_, id)| **id == call)
            .map(|(k, _)| *k)
    }

    pub(super) fn set_muted(&mut self, call: u64, muted: bool) {
        if let Some(info) = self.calls.get_mut(&call) {
            info.muted = muted;
            let info = info.clone();
            self.broadcast(PhoneEvent::Call { info });
        }
    }

    /// Folds one engine event into the state and tells the observers.
    pub(super) fn on_engine_event(
        &mut self,
        generation: u64,
        account: &Option<String>,
        event: EngineEvent,
    ) {
        match event {
            EngineEvent::Listening { .. } | EngineEvent::Stopped => {}
            EngineEvent::Ua(UaEvent::Registration {
                state,
                status,
                reason,
                expires,
            }) => self.set_registration(RegistrationInfo::from_engine(
                account.clone(),
                state,
                status,
                reason,
                expires,
            )),
            EngineEvent::Ua(UaEvent::Call {
                call,
                state,
                status,
                reason,
                peer,
                by,
            }) => {
                let id = self.call_id(generation, call, &peer, state == ua_incoming());
                self.update_call(id, |c| {
                    c.state = state.into();
                    c.status = status.or(c.status);
                    c.reason = reason.or(c.reason.take());
                    c.ended_by = by.map(Into::into);
                    if !peer.is_empty() {
                        c.peer = peer;
                    }
                });
            }
            EngineEvent::Ua(UaEvent::Security { call, info }) => {
                let Some(id) = self.ids.get(&(generation, call)).copied() else {
                    return;
                };
                self.update_call(id, |c| {
                    let new = SecurityInfo::from(&info);
                    match &mut c.security {
                        // ZRTP runs on the media path: the signalling's "no SDES" does not
                        // undo it; only the TLS flag is news.
                        Some(s)
                            if s.mode == SecurityMode::Zrtp && new.mode == SecurityMode::None =>
                        {
                            s.signalling_tls = new.signalling_tls
                        }
                        slot => *slot = Some(new),
                    }
                });
            }
            EngineEvent::CallPlaced { call, uri } => {
                let id = self.call_id(generation, call, &uri, false);
                if let Some(pos) = self.call_waiters.iter().position(|(g, _)| *g == generation) {
                    if let Some((_, w)) = self.call_waiters.remove(pos) {
                        let _ = w.send(Ok(id));
                    }
                }
                self.update_call(id, |_| {});
            }
            EngineEvent::CommandFailed { command, error } => {
                if command == "call" {
                    if let Some(pos) = self.call_waiters.iter().position(|(g, _)| *g == generation)
                    {
                        if let Some((_, w)) = self.call_waiters.remove(pos) {
                            let _ = w.send(Err(PhoneError::CommandFailed {
                                command: command.clone(),
                                detail: error.clone(),
                            }));
                        }
                    }
                }
                self.broadcast(PhoneEvent::CommandFailed {
                    command,
                    message: error,
                });
            }
            EngineEvent::Media(event) => self.on_media_event(generation, event),
            EngineEvent::Warning(message) => self.broadcast(PhoneEvent::Warning { message }),
            EngineEvent::Ua(_) => {}
        }
    }

    /// The engine of `generation` is gone: its calls are over and nobody waits for it.
    pub(super) fn engine_stopped(&mut self, generation: u64, error: Option<String>) {
        let ids: Vec<u64> = self
            .ids
            .iter()
            .filter(|((g, _), _)| *g == generation)
            .map(|(_, id)| *id)
            .collect();
        for id in ids {
            self.update_call(id, |c| {
                c.state = CallState::Failed;
                c.reason = Some("the engine stopped".into());
            });
        }
        self.call_waiters.retain(|(g, _)| *g != generation);
        if error.is_some() {
            if let Some(mut info) = self.registration.clone() {
                if info.account_id.is_some() {
                    info.state = RegistrationState::Failed;
                    info.failure = Some(RegistrationFailure::Unreachable);
                    info.reason = error.clone();
                    self.set_registration(info);
                }
            }
        }
        self.broadcast(PhoneEvent::EngineStopped { error });
    }

    fn on_media_event(&mut self, generation: u64, event: MediaEvent) {
        let call = match &event {
            MediaEvent::Quality { call, .. }
            | MediaEvent::Dtmf { call, .. }
            | MediaEvent::ZrtpSecure { call, .. }
            | MediaEvent::ZrtpFailed { call, .. }
            | MediaEvent::PlayFinished { call }
            | MediaEvent::Error { call, .. } => *call,
        };
        let Some(id) = self.ids.get(&(generation, call)).copied() else {
            return;
        };
        match event {
            MediaEvent::Quality { figures, .. } => {
                self.update_call(id, |c| c.quality = Some(CallQuality::from(&figures)))
            }
            MediaEvent::Dtmf { digit, .. } => self.broadcast(PhoneEvent::Dtmf {
                call: id,
                digit: digit.to_string(),
            }),
            MediaEvent::ZrtpSecure { info, .. } => self.update_call(id, |c| {
                let mut new = SecurityInfo::from(info.as_ref());
                new.signalling_tls = c.security.as_ref().is_some_and(|s| s.signalling_tls);
                c.security = Some(new);
            }),
            MediaEvent::ZrtpFailed { reason, .. } => {
                self.update_call(id, |c| {
                    let s = c.security.get_or_insert_with(|| SecurityInfo {
                        mode: SecurityMode::None,
                        status: "Not encrypted".into(),
                        badge: "Not encrypted".into(),
                        cipher: None,
                        key_agreement: None,
                        sas: None,
                        verified: false,
                        pbx: false,
                        cache: None,
                        signalling_tls: false,
                        insecure: false,
                        insecure_reason: None,
                    });
                    s.insecure = true;
                    s.insecure_reason = Some(format!("ZRTP failed: {reason}"));
                });
            }
            MediaEvent::Error { error, .. } => self.broadcast(PhoneEvent::Warning {
                message: format!("call {id}: {error}"),
            }),
            MediaEvent::PlayFinished { .. } => {}
        }
    }

    fn call_id(&mut self, generation: u64, call: CallHandle, peer: &str, incoming: bool) -> u64 {
        if let Some(id) = self.ids.get(&(generation, call)) {
            return *id;
        }
        self.next_call += 1;
        let id = self.next_call;
        self.ids.insert((generation, call), id);
        self.calls.insert(
            id,
            CallInfo {
                id,
                peer: peer.to_string(),
                incoming,
                state: if incoming {
                    CallState::Incoming
                } else {
                    CallState::Calling
                },
                status: None,
                reason: None,
                ended_by: None,
                muted: false,
                security: None,
                quality: None,
            },
        );
        id
    }

    /// Changes a call, tells the observers, and forgets the call once it is over.
    fn update_call(&mut self, id: u64, change: impl FnOnce(&mut CallInfo)) {
        let Some(info) = self.calls.get_mut(&id) else {
            return;
        };
        change(info);
        let info = info.clone();
        if matches!(info.state, CallState::Ended | CallState::Failed) {
            self.calls.remove(&id);
            self.ids.retain(|_, v| *v != id);
        }
        self.broadcast(PhoneEvent::Call { info });
    }
}

fn ua_incoming() -> crate::sip::ua::CallState {
    crate::sip::ua::CallState::Incoming
}

/// An observer's thread: calls it for each event until cancelled or the phone is gone.
fn deliver(
    id: u64,
    observer: Box<dyn PhoneObserver>,
    events: std_mpsc::Receiver<PhoneEvent>,
    cancelled: Arc<AtomicBool>,
) {
    while let Ok(event) = events.recv() {
        if cancelled.load(Ordering::SeqCst) {
            break;
        }
        match std::panic::catch_unwind(AssertUnwindSafe(|| observer.on_event(event))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(observer = id, "observer threw: {e}"),
            Err(_) => tracing::warn!(observer = id, "observer panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::sip::ua::RegState;

    struct Collect(Arc<Mutex<Vec<PhoneEvent>>>);
    impl PhoneObserver for Collect {
        fn on_event(&self, event: PhoneEvent) -> Result<(), ObserverError> {
            self.0.lock().expect("test lock").push(event);
            Ok(())
        }
    }

    /// Panics on every event after counting it.
    struct Panics(Arc<Mutex<u32>>);
    impl PhoneObserver for Panics {
        fn on_event(&self, _: PhoneEvent) -> Result<(), ObserverError> {
            *self.0.lock().expect("test lock") += 1;
            panic!("observer bug");
        }
    }

    fn wait_for(events: &Mutex<Vec<PhoneEvent>>, n: usize) -> Vec<PhoneEvent> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while events.lock().expect("test lock").len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        events.lock().expect("test lock").clone()
    }

    fn registration(state: RegState, status: Option<u16>) -> EngineEvent {
        EngineEvent::Ua(UaEvent::Registration {
            state,
            status,
            reason: status.map(|_| "Forbidden - wrong password".into()),
            expires: None,
        })
    }

    #[test]
    fn state_first_then_typed_registration_failure_despite_a_panicking_observer() {
        let hub: SharedHub = Arc::default();
        let panics = Arc::new(Mutex::new(0));
        let _bad = subscribe(&hub, Box::new(Panics(panics.clone()))).expect("observer");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let good = subscribe(&hub, Box::new(Collect(seen.clone()))).expect("observer");
        let account = Some("acc-1".to_string());
        let waiter = lock(&hub).wait_registration();
        lock(&hub).on_engine_event(1, &account, registration(RegState::Registering, None));
        lock(&hub).on_engine_event(1, &account, registration(RegState::Failed, Some(403)));

        let events = wait_for(&seen, 3);
        let states: Vec<RegistrationState> = events
            .iter()
            .filter_map(|e| match e {
                PhoneEvent::Registration { info } => Some(info.state),
                _ => None,
            })
            .collect();
        assert_eq!(
            states,
            [
                RegistrationState::NoAccount,
                RegistrationState::Registering,
                RegistrationState::Failed
            ]
        );
        let failed = waiter.blocking_recv().expect("the waiter is answered");
        assert_eq!(failed.failure, Some(RegistrationFailure::WrongCredentials));
        assert_eq!(failed.account_id, account);
        assert!(matches!(
            failed.error(),
            Some(PhoneError::WrongCredentials { status: 403, .. })
        ));
        // Unwinding (with a backtrace) is slow: give the panicking observer its time, bounded.
        let deadline = Instant::now() + Duration::from_secs(5);
        while *panics.lock().expect("test lock") < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            *panics.lock().expect("test lock"),
            3,
            "it went on after panicking"
        );

        good.cancel();
        lock(&hub).on_engine_event(1, &account, registration(RegState::Registered, Some(200)));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            seen.lock().expect("test lock").len(),
            3,
            "nothing after cancel"
        );
    }
}
