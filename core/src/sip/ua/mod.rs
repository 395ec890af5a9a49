//! The user agent: registration, calls and dialogs on top of the transaction layer. Sans-IO.
//!
//! The engine feeds it datagrams/frames ([`UserAgent::handle_datagram`]), commands
//! ([`UserAgent::call`], [`UserAgent::answer`], …) and timeouts; it drains
//! [`UserAgent::poll_output`] for bytes to send and events for the user, and sleeps until
//! [`UserAgent::poll_timeout`].
//!
//! ```
//! use std::time::Instant;
//! use sipher::sip::ua::{UaConfig, UaOutput, UserAgent};
//! let now = Instant::now();
//! use rand::SeedableRng;
//! let mut ua = UserAgent::new(UaConfig::default(), &mut rand::rngs::StdRng::seed_from_u64(7));
//! // the engine tells the UA where it listens, then runs the canonical loop:
//! ua.set_local_addr(sipher::sip::Transport::Udp, "127.0.0.1:5070".parse().unwrap());
//! while let Some(out) = ua.poll_output() {
//!     match out {
//!         UaOutput::Transmit { target, data } => { /* send `data` to `target` */ }
//!         UaOutput::Event(event) => { /* show it */ }
//!     }
//! }
//! let _next_wakeup = ua.poll_timeout();
//! ```

mod call;
mod config;
mod dialog;
mod media;
mod registration;
mod security;
mod util;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{CryptoRng, RngCore, SeedableRng};

use self::call::Call;
pub use self::call::{CallHandle, CallState, Party};
pub use self::config::UaConfig;
pub use self::media::{MediaConfig, ZrtpMedia};
use self::registration::Registration;
pub use self::registration::{Account, RegState};
pub use self::security::{MediaEncryption, SecurityInfo, SrtpKeys};
use self::util::*;
use super::message::*;
use super::parse::{parse_message, ParseErrorKind};
use super::transaction::{TransactionEvent, TransactionKey, TransactionLayer, TransactionOutput};
use super::uri::Uri;

/// What the UA asks of the engine.
// Outputs only pass through one queue and are consumed at once; boxing the larger events
// would allocate for every one of them.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum UaOutput {
    Transmit { target: Target, data: Vec<u8> },
    Event(UaEvent),
}

/// Something the user should see.
#[derive(Debug, Clone, PartialEq)]
pub enum UaEvent {
    Registration {
        state: RegState,
        status: Option<u16>,
        reason: Option<String>,
        expires: Option<u32>,
    },
    Call {
        call: CallHandle,
        state: CallState,
        status: Option<u16>,
        reason: Option<String>,
        peer: String,
        by: Option<Party>,
    },
    /// The negotiated media of a call changed (answer received or sent): the media engine
    /// (re)starts the stream.
    Media {
        call: CallHandle,
        media: Box<media::NegotiatedMedia>,
        /// The SRTP keys when the media is encrypted.
        srtp: Option<SrtpKeys>,
        /// With ZRTP: the hash chain our SDP announced and the peer's announced Hello hash.
        zrtp: Option<Box<ZrtpMedia>>,
    },
    /// How the call is protected now (sent when it changes).
    Security {
        call: CallHandle,
        info: SecurityInfo,
    },
    /// Start or stop keepalives on the flow to the registrar.
    KeepAlive { target: Target, on: bool },
    /// A message that could not be parsed (answered 400/505 where possible).
    Malformed { source: Target, reason: String },
}

/// Errors of UA commands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UaError {
    #[error("no such call")]
    NoSuchCall,
    #[error("the call is not in a state that allows this ({0})")]
    InvalidState(&'static str),
    #[error("no account configured")]
    NoAccount,
    #[error("cannot reach {0}: the URI has no IP address and there is no outbound proxy")]
    Unroutable(String),
    #[error("no local address for transport {0}")]
    NoLocalAddress(Transport),
    #[error("too many calls")]
    TooManyCalls,
    #[error("{0}")]
    InsecureSdes(String),
}

/// A SIP user agent.
pub struct UserAgent {
    config: UaConfig,
    rng: StdRng,
    tx: TransactionLayer,
    local_addrs: HashMap<Transport, SocketAddr>,
    registration: Option<Registration>,
    calls: Vec<Call>,
    next_call: u64,
    /// Client transactions we started, and what they belong to.
    owners: HashMap<TransactionKey, Owner>,
    out: VecDeque<UaOutput>,
    /// Last `now` we saw; used to stamp timers set from commands.
    now: Option<Instant>,
    /// The last transport failure, to explain a failed request to the user.
    last_transport_error: Option<(Target, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Registration,
    Call(CallHandle),
    Stray,
}

impl UserAgent {
    /// `rng` seeds the agent's own generator (256 bits) for tags, branches, Call-IDs and SDES
    /// keys: the engine passes the OS generator, tests a seeded one to be reproducible.
    pub fn new(config: UaConfig, rng: &mut (impl RngCore + CryptoRng)) -> UserAgent {
        let tx = TransactionLayer::new(config.timers);
        let registration = config.account.clone().map(Registration::new);
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        UserAgent {
            config,
            rng: StdRng::from_seed(seed),
            tx,
            local_addrs: HashMap::new(),
            registration,
            calls: Vec::new(),
            next_call: 1,
            owners: HashMap::new(),
            out: VecDeque::new(),
            now: None,
            last_transport_error: None,
        }
    }

    pub fn config(&self) -> &UaConfig {
        &self.config
    }

    /// Where the engine listens (or binds its outgoing sockets) for a transport: used for Via
    /// and Contact.
    pub fn set_local_addr(&mut self, transport: Transport, addr: SocketAddr) {
        self.local_addrs.insert(transport, addr);
    }

    /// Starts registering (and keeps the registration fresh) with the configured account.
    pub fn register(&mut self, now: Instant) -> Result<(), UaError> {
        self.now = Some(now);
        let mut reg = self.registration.take().ok_or(UaError::NoAccount)?;
        let r = reg.start(self, now);
        self.registration = Some(reg);
        r
    }

    /// Removes the registration (Expires: 0). [`UserAgent::is_idle`] tells when it is done.
    pub fn unregister(&mut self, now: Instant) {
        self.now = Some(now);
        if let Some(mut reg) = self.registration.take() {
            reg.stop(self, now);
            self.registration = Some(reg);
        }
    }

    pub fn registration_state(&self) -> Option<RegState> {
        self.registration.as_ref().map(|r| r.state())
    }

    /// Places a call to `uri`. `target` is where the INVITE goes (the outbound proxy, or the
    /// resolved address of the URI); `None` derives it from the account or the URI's IP.
    pub fn call(
        &mut self,
        now: Instant,
        uri: Uri,
        target: Option<Target>,
    ) -> Result<CallHandle, UaError> {
        self.now = Some(now);
        if self.active_calls() >= self.config.max_calls {
            return Err(UaError::TooManyCalls);
        }
        let target = match target {
            Some(t) => t,
            None => self.initial_target(&uri)?,
        };
        let handle = self.new_handle();
        let call = Call::outgoing(self, now, handle, uri, target)?;
        self.calls.push(call);
        Ok(handle)
    }

    pub fn answer(&mut self, now: Instant, handle: CallHandle) -> Result<(), UaError> {
        self.with_call(now, handle, |call, ua| call.answer(ua, now))
    }

    /// Declines an incoming call with `status` (486, 603, …).
    pub fn reject(&mut self, now: Instant, handle: CallHandle, status: u16) -> Result<(), UaError> {
        self.with_call(now, handle, |call, ua| call.reject(ua, now, status))
    }

    /// Ends a call in any state: CANCEL while it rings out, BYE once connected, 603 while it
    /// rings in.
    pub fn hangup(&mut self, now: Instant, handle: CallHandle) -> Result<(), UaError> {
        self.with_call(now, handle, |call, ua| call.hangup(ua, now))
    }

    pub fn hold(&mut self, now: Instant, handle: CallHandle) -> Result<(), UaError> {
        self.with_call(now, handle, |call, ua| call.set_hold(ua, now, true))
    }

    pub fn resume(&mut self, now: Instant, handle: CallHandle) -> Result<(), UaError> {
        self.with_call(now, handle, |call, ua| call.set_hold(ua, now, false))
    }

    /// Re-offer every connected call's session (after a network change).
    pub fn refresh_calls(&mut self, now: Instant) {
        for handle in self.call_handles() {
            let _ = self.with_call(now, handle, |call, ua| call.refresh(ua, now));
        }
    }

    pub fn call_state(&self, handle: CallHandle) -> Option<CallState> {
        self.calls
            .iter()
            .find(|c| c.handle == handle)
            .map(|c| c.state())
    }

    /// The calls that are not over.
    pub fn call_handles(&self) -> Vec<CallHandle> {
        self.calls
            .iter()
            .filter(|c| !c.is_over())
            .map(|c| c.handle)
            .collect()
    }

    /// Calls that are not over.
    pub fn active_calls(&self) -> usize {
        self.calls.iter().filter(|c| !c.is_over()).count()
    }

    /// True when no call, registration or transaction needs the UA any more (for a clean exit).
    pub fn is_idle(&self) -> bool {
        self.active_calls() == 0
            && self.registration.as_ref().is_none_or(|r| r.is_idle())
            && self.owners.is_empty()
    }

    /// A message could not be sent to `target` (connection refused, TLS handshake failure, …).
    /// Transactions towards it fail at once, and the reason is what the user is shown.
    pub fn transport_failed(&mut self, now: Instant, target: Target, reason: &str) {
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        self.last_transport_error = Some((target, reason));
        self.flow_closed(now, target);
    }

    /// A TCP/TLS flow closed: transactions on it fail; the registration is renewed over a new
    /// flow.
    pub fn flow_closed(&mut self, now: Instant, target: Target) {
        self.now = Some(now);
        self.tx.transport_error(now, target);
        self.pump(now);
        if let Some(mut reg) = self.registration.take() {
            reg.flow_closed(self, now, target);
            self.registration = Some(reg);
        }
    }

    /// A message arrived from `source`.
    pub fn handle_datagram(&mut self, now: Instant, source: Target, data: &[u8]) {
        self.now = Some(now);
        if data.iter().all(|b| *b == b'\r' || *b == b'\n') {
            return; // keepalive
        }
        match parse_message(data) {
            Ok(msg) => {
                self.tx.handle_message(now, msg, source);
                self.pump(now);
            }
            Err(e) => {
                tracing::debug!(%source, error = %e, "malformed SIP message");
                let status = match e.kind {
                    ParseErrorKind::VersionNotSupported(_) => StatusCode::VERSION_NOT_SUPPORTED,
                    ParseErrorKind::UnsupportedScheme(_) => {
                        StatusCode::new(416).expect("416 is a valid status")
                    }
                    _ => StatusCode::BAD_REQUEST,
                };
                // Answer what can be answered (RFC 3261 §8.2: a broken request still gets its
                // 4xx if we can tell where the response goes); never answer an ACK or a response.
                let resp = match &e.request {
                    Some(req) if req.method != Method::Ack => {
                        Some(Response::for_request(req, status))
                    }
                    Some(_) => None,
                    None => salvage_response(data, status),
                };
                if let Some(mut resp) = resp {
                    resp.reason = format!("{} ({})", status.default_reason(), short(&e.kind));
                    add_to_tag(&mut resp, &random_token(&mut self.rng, 10));
                    resp.headers
                        .push(HeaderName::Server, self.config.user_agent.clone());
                    self.transmit(source, resp.to_bytes());
                }
                self.emit(UaEvent::Malformed {
                    source,
                    reason: e.kind.to_string(),
                });
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.tx.handle_timeout(now);
        self.pump(now);
        if let Some(mut reg) = self.registration.take() {
            reg.handle_timeout(self, now);
            self.registration = Some(reg);
        }
        let mut calls = std::mem::take(&mut self.calls);
        for call in calls.iter_mut() {
            call.handle_timeout(self, now);
        }
        calls.append(&mut self.calls);
        self.calls = calls;
        self.gc_calls(now);
    }

    pub fn poll_output(&mut self) -> Option<UaOutput> {
        self.out.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.tx.poll_timeout();
        let mut merge = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t: Instant| t.min(x)));
            }
        };
        if let Some(r) = &self.registration {
            merge(r.poll_timeout());
        }
        for c in &self.calls {
            merge(c.poll_timeout());
        }
        t
    }

    // ---- internals shared by registration and calls ----

    fn new_handle(&mut self) -> CallHandle {
        let h = CallHandle(self.next_call);
        self.next_call += 1;
        h
    }

    fn with_call(
        &mut self,
        now: Instant,
        handle: CallHandle,
        f: impl FnOnce(&mut Call, &mut UserAgent) -> Result<(), UaError>,
    ) -> Result<(), UaError> {
        self.now = Some(now);
        let i = self
            .calls
            .iter()
            .position(|c| c.handle == handle)
            .ok_or(UaError::NoSuchCall)?;
        let mut call = self.calls.remove(i);
        let r = f(&mut call, self);
        self.calls.insert(i, call);
        self.pump(now);
        r
    }

    /// Drains the transaction layer and dispatches its events.
    fn pump(&mut self, now: Instant) {
        let mut rounds = 0;
        while let Some(out) = self.tx.poll_output() {
            rounds += 1;
            if rounds > 10_000 {
                tracing::error!("transaction layer produced too much output; dropping the rest");
                break;
            }
            match out {
                TransactionOutput::Transmit { target, message } => {
                    self.transmit(target, message.to_bytes())
                }
                TransactionOutput::Event(ev) => self.dispatch(now, ev),
            }
        }
    }

    fn dispatch(&mut self, now: Instant, ev: TransactionEvent) {
        match ev {
            TransactionEvent::Response { key, response } => {
                let is_final = response.status.is_final();
                self.dispatch_response(now, &key, response);
                // The owner is done with a transaction once it has the final response; later 2xx
                // retransmissions are matched to their dialog instead.
                if is_final {
                    self.owners.remove(&key);
                }
            }
            TransactionEvent::Timeout { key } | TransactionEvent::TransportError { key } => {
                match self.owners.get(&key).copied() {
                    Some(Owner::Registration) => {
                        if let Some(mut reg) = self.registration.take() {
                            reg.on_failure(self, now, &key);
                            self.registration = Some(reg);
                        }
                    }
                    Some(Owner::Call(h)) => {
                        self.on_call(h, |call, ua| call.on_failure(ua, now, &key))
                    }
                    _ => {}
                }
                self.owners.remove(&key);
            }
            TransactionEvent::Terminated { key } => {
                self.owners.remove(&key);
            }
            TransactionEvent::Request {
                key,
                request,
                source,
                cancelled,
            } => self.on_request(now, key, request, source, cancelled),
            TransactionEvent::Ack { request, source } => {
                if let Some(h) = self.find_dialog(&request) {
                    self.on_call(h, |call, ua| call.on_ack(ua, now, &request, source));
                }
            }
            TransactionEvent::AckTimeout { .. } => {}
        }
        self.gc_calls(now);
    }

    fn dispatch_response(&mut self, now: Instant, key: &TransactionKey, response: Response) {
        match self.owners.get(key).copied() {
            Some(Owner::Registration) => {
                if let Some(mut reg) = self.registration.take() {
                    reg.on_response(self, now, key, response);
                    self.registration = Some(reg);
                }
            }
            Some(Owner::Call(h)) => {
                self.on_call(h, |call, ua| call.on_response(ua, now, key, response));
            }
            Some(Owner::Stray) => {}
            None => {
                // A 2xx retransmission to an INVITE whose transaction ended: re-ACK it.
                self.on_stray_response(now, response);
            }
        }
    }

    fn on_call(&mut self, h: CallHandle, f: impl FnOnce(&mut Call, &mut UserAgent)) {
        if let Some(i) = self.calls.iter().position(|c| c.handle == h) {
            let mut call = self.calls.remove(i);
            f(&mut call, self);
            self.calls.insert(i, call);
        }
    }

    fn on_stray_response(&mut self, now: Instant, response: Response) {
        let Ok(cseq) = response.cseq() else { return };
        if cseq.method == Method::Invite && response.status.is_success() {
            if let Some(h) = self.find_dialog_of_response(&response) {
                self.on_call(h, |call, ua| call.on_2xx_retransmission(ua, now, &response));
            }
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        key: TransactionKey,
        request: Request,
        source: Target,
        cancelled: Option<TransactionKey>,
    ) {
        // Extensions we do not support (RFC 3261 §8.2.2.3).
        if request.method != Method::Ack && request.method != Method::Cancel {
            let unsupported: Vec<&str> = request
                .headers
                .get_all(&HeaderName::Require)
                .filter(|t| !SUPPORTED_EXTENSIONS.contains(&t.trim().to_ascii_lowercase().as_str()))
                .collect();
            if !unsupported.is_empty() {
                let mut resp =
                    Response::for_request(&request, StatusCode::new(420).expect("420 is valid"));
                resp.headers
                    .push(HeaderName::Unsupported, unsupported.join(", "));
                self.respond(now, resp);
                return;
            }
        }
        if let Some(invite_key) = cancelled {
            // The layer answered the CANCEL; end the ringing call with 487.
            let h = self
                .calls
                .iter()
                .find(|c| c.has_server_invite(&invite_key))
                .map(|c| c.handle);
            if let Some(h) = h {
                self.on_call(h, |call, ua| call.on_cancel(ua, now));
            }
            return;
        }
        let has_to_tag = request.to_header().ok().and_then(|t| t.tag()).is_some();
        if has_to_tag {
            match self.find_dialog(&request) {
                Some(h) => {
                    self.on_call(h, |call, ua| call.on_request(ua, now, key, request, source))
                }
                None => {
                    let resp = Response::for_request(&request, StatusCode::CALL_DOES_NOT_EXIST);
                    self.respond(now, resp);
                }
            }
            return;
        }
        match request.method {
            Method::Invite => {
                // A merged request (RFC 3261 §8.2.2.2) or a new call.
                if self.active_calls() >= self.config.max_calls {
                    let resp = Response::for_request(&request, StatusCode::BUSY_HERE);
                    self.respond(now, resp);
                    return;
                }
                let handle = self.new_handle();
                match Call::incoming(self, now, handle, key, request, source) {
                    Ok(call) => self.calls.push(call),
                    Err(resp) => self.respond(now, *resp),
                }
            }
            Method::Options => {
                let mut resp = Response::for_request(&request, StatusCode::OK);
                let tag = random_token(&mut self.rng, 10);
                add_to_tag(&mut resp, &tag);
                resp.headers.push(HeaderName::Allow, ALLOW);
                resp.headers.push(HeaderName::Accept, "application/sdp");
                resp.headers.push(HeaderName::Supported, "");
                self.respond(now, resp);
            }
            Method::Bye | Method::Info | Method::Update | Method::Prack => {
                let resp = Response::for_request(&request, StatusCode::CALL_DOES_NOT_EXIST);
                self.respond(now, resp);
            }
            Method::Message | Method::Notify => {
                let mut resp = Response::for_request(&request, StatusCode::OK);
                add_to_tag(&mut resp, &random_token(&mut self.rng, 10));
                self.respond(now, resp);
            }
            Method::Register | Method::Subscribe | Method::Publish | Method::Refer => {
                let mut resp = Response::for_request(&request, StatusCode::METHOD_NOT_ALLOWED);
                resp.headers.push(HeaderName::Allow, ALLOW);
                self.respond(now, resp);
            }
            Method::Ack | Method::Cancel => {}
            Method::Extension(_) => {
                let mut resp = Response::for_request(&request, StatusCode::NOT_IMPLEMENTED);
                resp.headers.push(HeaderName::Allow, ALLOW);
                self.respond(now, resp);
            }
        }
    }

    fn find_dialog(&self, request: &Request) -> Option<CallHandle> {
        let call_id = request.call_id().ok()?;
        let local_tag = request.to_header().ok()?.tag()?;
        let remote_tag = request.from_header().ok()?.tag();
        self.calls
            .iter()
            .find(|c| c.matches_dialog(&call_id, &local_tag, remote_tag.as_ref()))
            .map(|c| c.handle)
    }

    fn find_dialog_of_response(&self, response: &Response) -> Option<CallHandle> {
        let call_id = response.call_id().ok()?;
        let local_tag = response.from_header().ok()?.tag()?;
        let remote_tag = response.to_header().ok()?.tag();
        self.calls
            .iter()
            .find(|c| c.matches_dialog(&call_id, &local_tag, remote_tag.as_ref()))
            .map(|c| c.handle)
    }

    fn gc_calls(&mut self, now: Instant) {
        // Over calls linger a while to absorb retransmissions, then go.
        self.calls.retain(|c| !c.can_forget(now));
    }

    fn respond(&mut self, now: Instant, mut resp: Response) {
        // Every response but 100 carries a To tag (RFC 3261 §8.2.6.2); dialog responses already
        // have theirs, refusals built from the request alone do not.
        if resp.status.code() > 100 {
            let tag = random_token(&mut self.rng, 10);
            add_to_tag(&mut resp, &tag);
        }
        if resp.headers.get(&HeaderName::Server).is_none() {
            resp.headers
                .push(HeaderName::Server, self.config.user_agent.clone());
        }
        if let Err(e) = self.tx.send_response(now, resp) {
            tracing::debug!(error = %e, "response has no server transaction");
        }
        self.pump(now);
    }

    fn send_request(
        &mut self,
        now: Instant,
        req: Request,
        target: Target,
        owner: Owner,
    ) -> TransactionKey {
        let key = self.tx.send_request(now, req, target);
        self.owners.insert(key.clone(), owner);
        self.pump(now);
        key
    }

    fn transmit(&mut self, target: Target, data: Vec<u8>) {
        self.out.push_back(UaOutput::Transmit { target, data });
    }

    fn emit(&mut self, event: UaEvent) {
        self.out.push_back(UaOutput::Event(event));
    }

    /// Local address for a transport: the listener's, or for TCP/TLS without a listener the
    /// UDP one (the registrar learns the real flow from the connection).
    fn local_addr(&self, transport: Transport) -> Result<SocketAddr, UaError> {
        self.local_addrs
            .get(&transport)
            .or_else(|| self.local_addrs.values().next())
            .copied()
            .ok_or(UaError::NoLocalAddress(transport))
    }

    fn local_user(&self) -> String {
        match &self.config.account {
            Some(a) => a.user.clone(),
            None => self.config.local_user.clone(),
        }
    }

    /// Our Contact URI for a transport.
    fn contact_uri(&self, transport: Transport) -> Result<Uri, UaError> {
        let addr = self.local_addr(transport)?;
        let mut uri = Uri::new(
            super::uri::Scheme::Sip,
            Some(&self.local_user()),
            addr.ip().into(),
            Some(addr.port()),
        );
        if transport != Transport::Udp {
            uri.params
                .set("transport", Some(transport.as_str().to_ascii_lowercase()));
        }
        if let Some(reg) = &self.registration {
            if let Some(public) = reg.public_contact(transport) {
                uri.host = public.ip().into();
                uri.port = Some(public.port());
            }
        }
        Ok(uri)
    }

    /// A Via for a new request over `transport`, with a fresh branch and rport.
    fn new_via(&mut self, transport: Transport) -> Result<String, UaError> {
        let addr = self.local_addr(transport)?;
        let branch = format!("{}{}", Branch::MAGIC, random_token(&mut self.rng, 16));
        let host: super::uri::Host = addr.ip().into();
        Ok(format!(
            "SIP/2.0/{} {}:{};rport;branch={}",
            transport,
            host,
            addr.port(),
            branch
        ))
    }

    /// Where an out-of-dialog request to `uri` goes: the account's server (registrar or
    /// outbound proxy), else the URI's own address.
    fn initial_target(&self, uri: &Uri) -> Result<Target, UaError> {
        if let Some(acc) = &self.config.account {
            return Ok(acc.server);
        }
        uri_target(uri, self.default_transport())
            .ok_or_else(|| UaError::Unroutable(uri.to_string()))
    }

    /// Where an in-dialog request goes: the first route, else the remote target's address,
    /// else the account's server.
    fn dialog_target(&self, next_hop: &Uri, transport: Transport) -> Result<Target, UaError> {
        if let Some(t) = uri_target(next_hop, transport) {
            return Ok(t);
        }
        match &self.config.account {
            Some(acc) => Ok(acc.server),
            None => Err(UaError::Unroutable(next_hop.to_string())),
        }
    }

    fn default_transport(&self) -> Transport {
        match &self.config.account {
            Some(a) => a.server.transport,
            None => self.config.transport,
        }
    }
}

fn short(kind: &ParseErrorKind) -> String {
    let s = kind.to_string();
    let s: String = s.chars().filter(|c| !c.is_control()).take(80).collect();
    s
}

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, MESSAGE, NOTIFY";
const SUPPORTED_EXTENSIONS: &[&str] = &[];
