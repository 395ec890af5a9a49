//! SIP transactions (RFC 3261 §17, with the RFC 6026 corrections for INVITE), sans-IO.
//!
//! A [`TransactionLayer`] holds every client and server transaction of one user agent. It never
//! touches a socket or a clock: the driver feeds it messages and the current time, then drains
//! [`TransactionLayer::poll_output`] and sleeps until [`TransactionLayer::poll_timeout`].
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sipher::sip::transaction::{TimerConfig, TransactionLayer, TransactionOutput};
//! use sipher::sip::{parse_message, SipMessage, Target, Transport};
//!
//! let mut layer = TransactionLayer::new(TimerConfig::default());
//! let now = Instant::now(); // the driver's clock, never read inside the layer
//! let wire = b"OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKdoc\r\n\
//!     Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\n\
//!     Call-ID: doc@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
//! let Ok(SipMessage::Request(options)) = parse_message(wire) else { panic!("valid OPTIONS") };
//! let bob = Target { transport: Transport::Udp, addr: "127.0.0.1:5070".parse().unwrap() };
//!
//! // One mutation (send_request / send_response / handle_message / handle_timeout) ...
//! layer.send_request(now, options, bob);
//! // ... then drain every output before waiting.
//! while let Some(output) = layer.poll_output() {
//!     match output {
//!         TransactionOutput::Transmit { target, message } => { /* write to `target` */ }
//!         TransactionOutput::Event(event) => { /* hand to the UA */ }
//!     }
//! }
//! // Sleep until the next timer (here Timer E, a retransmission after T1) or until a message
//! // arrives, whichever is first; then call handle_timeout / handle_message and drain again.
//! assert_eq!(layer.poll_timeout(), Some(now + Duration::from_millis(500)));
//! ```
//!
//! Duties left to the UA:
//! - It builds every request's top Via with a fresh `z9hG4bK` branch, and sends its own ACK for
//!   a 2xx (a new transaction-less request, §13.2.2.4). Every 2xx of an INVITE, including
//!   retransmissions and other forks within 64*T1, arrives as [`TransactionEvent::Response`] so
//!   it can re-ACK them (RFC 6026 "Accepted").
//! - After answering an INVITE with a 2xx, the UA itself retransmits that 2xx through
//!   [`TransactionLayer::send_response`] at T1, 2*T1, … capped at T2 until the ACK arrives
//!   (as a [`TransactionEvent::Ack`]) or 64*T1 passes (RFC 3261 §13.3.1.4). The server
//!   transaction stays "Accepted" for 64*T1 to let those through and to absorb retransmitted
//!   INVITEs.
//! - It answers 487 to an INVITE whose CANCEL it is told about; the layer already answered the
//!   CANCEL (200, or 481 when it matched nothing), so the UA must not answer that CANCEL.
//!
//! Responses that match no client transaction are dropped, including a 2xx arriving after
//! Timer M; a server INVITE that was refused for capacity (503) gets its ACK passed up as
//! [`TransactionEvent::Ack`], which the dialog layer ignores.

mod client;
mod key;
mod server;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use self::client::{ClientTransaction, InviteClientState, NonInviteClientState};
use self::key::{add_local_to_tag, derived_request};
use self::server::{AckOutcome, ServerTransaction};
use crate::sip::message::{
    HeaderAccess, HeaderError, HeaderName, Method, Request, Response, SipMessage, StatusCode,
    Target,
};

pub use self::key::TransactionKey;

/// RFC 3261 §17.1.1.1 timer values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// Round-trip estimate: first retransmission interval; 64*T1 bounds every transaction.
    pub t1: Duration,
    /// Cap on the retransmission interval of non-INVITE requests and INVITE final responses.
    pub t2: Duration,
    /// How long a message may stay in the network (Timers I and K).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> TimerConfig {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// What the layer asks its driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionOutput {
    /// Send `message` to `target`.
    Transmit { target: Target, message: SipMessage },
    /// Tell the UA something happened.
    Event(TransactionEvent),
}

/// What the layer tells the UA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionEvent {
    /// A response for a client transaction (1xx and the final one; for INVITE client
    /// transactions every 2xx, including retransmitted 2xx that arrive while the transaction
    /// lingers in the "Accepted" state of RFC 6026, so the UA can re-ACK them).
    Response {
        key: TransactionKey,
        response: Response,
    },
    /// Timer B or F fired (the UA reports 408 Request Timeout).
    Timeout { key: TransactionKey },
    /// The transport to the transaction's target failed before a final response arrived.
    TransportError { key: TransactionKey },
    /// A new request for the UA (a retransmission of a known request is absorbed and the last
    /// response re-sent). A CANCEL is answered 200 by the layer itself if it matches a server
    /// INVITE transaction still waiting for its final response, and then this event carries the
    /// CANCEL with `cancelled: Some(invite_key)` so the UA can answer 487 to the INVITE; a CANCEL
    /// matching nothing is answered 481 by the layer and not passed up.
    Request {
        key: TransactionKey,
        request: Request,
        source: Target,
        cancelled: Option<TransactionKey>,
    },
    /// An ACK that matches no server transaction (the ACK for a 2xx): goes to the dialog layer.
    Ack { request: Request, source: Target },
    /// A server INVITE transaction that sent a non-2xx final never got its ACK (Timer H).
    AckTimeout { key: TransactionKey },
    /// The transaction is gone; its key may be forgotten.
    Terminated { key: TransactionKey },
}

/// Why the UA's request to the layer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    #[error("no transaction matches")]
    NoTransaction,
    #[error("not an INVITE client transaction")]
    NotInvite,
    #[error("the transaction already has its final response")]
    AlreadyFinal,
    #[error("cannot identify the transaction: {0}")]
    Header(#[from] HeaderError),
}

/// All transactions of one user agent.
pub struct TransactionLayer {
    config: TimerConfig,
    max_transactions: usize,
    clients: HashMap<TransactionKey, Slot<ClientTransaction>>,
    servers: HashMap<TransactionKey, Slot<ServerTransaction>>,
    outputs: Outputs,
    /// Creation counter: orders simultaneous timers deterministically (the maps do not).
    serial: u64,
}

impl TransactionLayer {
    /// Default bound on live transactions; beyond it new requests get 503.
    pub const DEFAULT_MAX_TRANSACTIONS: usize = 1024;

    pub fn new(config: TimerConfig) -> Self {
        TransactionLayer {
            config,
            max_transactions: Self::DEFAULT_MAX_TRANSACTIONS,
            clients: HashMap::new(),
            servers: HashMap::new(),
            outputs: VecDeque::new(),
            serial: 0,
        }
    }

    /// Changes the bound on live (client + server) transactions. Received requests beyond it
    /// are answered 503 without a transaction; the UA's own requests are never refused.
    pub fn set_max_transactions(&mut self, max: usize) {
        self.max_transactions = max;
    }

    /// Number of live transactions (client and server).
    pub fn len(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts a client transaction. `req` must already carry its top Via with a `z9hG4bK`
    /// branch (the UA builds it). Returns the key. Emits Transmit for the first send.
    pub fn send_request(&mut self, now: Instant, req: Request, target: Target) -> TransactionKey {
        let serial = self.next_serial();
        let key = TransactionKey::for_outgoing(&req).unwrap_or_else(|e| {
            // A UA bug, not network input: the request still goes out and ends by Timer B/F.
            tracing::error!(%e, "request without a usable top Via; responses cannot match");
            TransactionKey::unmatchable(req.method.clone(), serial)
        });
        if self.clients.contains_key(&key) {
            tracing::warn!(
                ?key,
                "branch reused by the UA; the older transaction is dropped"
            );
            self.clients.remove(&key);
            event(
                &mut self.outputs,
                TransactionEvent::Terminated { key: key.clone() },
            );
        }
        let mut tx = ClientTransaction::new(key.clone(), req, target);
        tx.start(now, &self.config, &mut self.outputs);
        self.clients.insert(key.clone(), Slot { serial, tx });
        self.reap_client(&key);
        key
    }

    /// Sends a response through the matching server transaction (matched from the response's
    /// top Via branch + CSeq method). Errors if there is none (typed error).
    pub fn send_response(&mut self, now: Instant, resp: Response) -> Result<(), TransactionError> {
        let key = TransactionKey::for_outgoing_response(&resp)?;
        let slot = self
            .servers
            .get_mut(&key)
            .ok_or(TransactionError::NoTransaction)?;
        slot.tx
            .send_response(now, resp, &self.config, &mut self.outputs)?;
        self.reap_server(&key);
        Ok(())
    }

    /// Feeds a parsed message received from `source`.
    pub fn handle_message(&mut self, now: Instant, msg: SipMessage, source: Target) {
        match msg {
            SipMessage::Request(req) => self.handle_request(now, req, source),
            SipMessage::Response(resp) => self.handle_response(now, resp),
        }
    }

    /// Fires every timer due at `now`. Each timer fires at most once per call and is re-armed
    /// from `now`, so a late driver gets one retransmission, not a burst.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due: Vec<(Instant, u64, bool, TransactionKey)> = Vec::new();
        for (key, slot) in &self.clients {
            if let Some(at) = slot.tx.next_timeout().filter(|at| *at <= now) {
                due.push((at, slot.serial, false, key.clone()));
            }
        }
        for (key, slot) in &self.servers {
            if let Some(at) = slot.tx.next_timeout().filter(|at| *at <= now) {
                due.push((at, slot.serial, true, key.clone()));
            }
        }
        due.sort_by_key(|d| (d.0, d.1));
        for (_, _, is_server, key) in due {
            if is_server {
                if let Some(slot) = self.servers.get_mut(&key) {
                    slot.tx.on_timeout(now, &self.config, &mut self.outputs);
                }
                self.reap_server(&key);
            } else {
                if let Some(slot) = self.clients.get_mut(&key) {
                    slot.tx.on_timeout(now, &self.config, &mut self.outputs);
                }
                self.settle_cancel(now, &key);
                self.reap_client(&key);
            }
        }
    }

    pub fn poll_output(&mut self) -> Option<TransactionOutput> {
        self.outputs.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let clients = self.clients.values().filter_map(|s| s.tx.next_timeout());
        let servers = self.servers.values().filter_map(|s| s.tx.next_timeout());
        clients.chain(servers).min()
    }

    /// Builds and sends the CANCEL for a pending INVITE client transaction (RFC 3261 §9.1): same
    /// Request-URI, Call-ID, From, To, CSeq number, top Via (same branch), Route; only once a
    /// provisional response was received (queued until then, and dropped if a final response
    /// or Timer B comes first). Returns the CANCEL's key; asking twice returns the same key.
    pub fn cancel(
        &mut self,
        now: Instant,
        invite: &TransactionKey,
    ) -> Result<TransactionKey, TransactionError> {
        let slot = self
            .clients
            .get(invite)
            .ok_or(TransactionError::NoTransaction)?;
        let ClientTransaction::Invite(inv) = &slot.tx else {
            return Err(TransactionError::NotInvite);
        };
        if let Some(existing) = inv
            .cancel
            .as_ref()
            .filter(|k| self.clients.contains_key(*k))
        {
            return Ok(existing.clone());
        }
        if !matches!(
            inv.state,
            InviteClientState::Calling | InviteClientState::Proceeding
        ) {
            return Err(TransactionError::AlreadyFinal);
        }
        let to = inv
            .request()
            .headers
            .get(&HeaderName::To)
            .unwrap_or_default();
        let cancel = derived_request(inv.request(), Method::Cancel, to)?;
        let cancel_key = invite.with_method(Method::Cancel);
        let tx = ClientTransaction::new(cancel_key.clone(), cancel, inv.target());
        let serial = self.next_serial();
        self.clients.insert(cancel_key.clone(), Slot { serial, tx });
        if let Some(Slot {
            tx: ClientTransaction::Invite(inv),
            ..
        }) = self.clients.get_mut(invite)
        {
            inv.cancel = Some(cancel_key.clone());
        }
        self.settle_cancel(now, invite);
        Ok(cancel_key)
    }

    /// A transport failure (e.g. TCP connection refused) for a target: the client transactions
    /// to it that still wait for a final response end with [`TransactionEvent::TransportError`].
    /// Server transactions are left alone: their responses go back on the source connection,
    /// and the UA learns of trouble there from its own transport.
    pub fn transport_error(&mut self, now: Instant, target: Target) {
        let mut affected: Vec<(u64, TransactionKey)> = self
            .clients
            .iter()
            .map(|(k, s)| (s.serial, k.clone()))
            .collect();
        affected.sort_by_key(|(serial, _)| *serial);
        for (_, key) in affected {
            let hit = match self.clients.get_mut(&key) {
                Some(slot) => slot.tx.on_transport_error(target, &mut self.outputs),
                None => false,
            };
            if hit {
                self.settle_cancel(now, &key);
                self.reap_client(&key);
            }
        }
    }

    fn handle_request(&mut self, now: Instant, req: Request, source: Target) {
        let key = match checked_server_key(&req) {
            Ok(key) => key,
            Err(e) => {
                tracing::debug!(%e, %source, "request dropped: cannot identify its transaction");
                return;
            }
        };
        if let Some(slot) = self.servers.get_mut(&key) {
            if req.method == Method::Ack {
                if let AckOutcome::PassUp = slot.tx.on_ack(now, &self.config) {
                    event(
                        &mut self.outputs,
                        TransactionEvent::Ack {
                            request: req,
                            source,
                        },
                    );
                }
            } else {
                slot.tx.on_retransmission(&mut self.outputs);
            }
            self.reap_server(&key);
            return;
        }
        if req.method == Method::Ack {
            let ack = TransactionEvent::Ack {
                request: req,
                source,
            };
            event(&mut self.outputs, ack);
            return;
        }
        // A CANCEL for a live INVITE is let through: at most one per INVITE, and refusing it
        // would leave the call ringing.
        let cancels_live_invite = req.method == Method::Cancel
            && self.servers.contains_key(&key.with_method(Method::Invite));
        if self.len() >= self.max_transactions && !cancels_live_invite {
            tracing::warn!("transaction table full; answering 503");
            let mut resp = Response::for_request(&req, StatusCode::SERVICE_UNAVAILABLE);
            add_local_to_tag(&mut resp);
            transmit(&mut self.outputs, source, SipMessage::Response(resp));
            return;
        }
        if req.method == Method::Cancel {
            self.handle_cancel(now, key, req, source);
            return;
        }
        let serial = self.next_serial();
        let tx = ServerTransaction::new(key.clone(), req.clone(), source, now);
        self.servers.insert(key.clone(), Slot { serial, tx });
        let request = TransactionEvent::Request {
            key,
            request: req,
            source,
            cancelled: None,
        };
        event(&mut self.outputs, request);
    }

    /// A new CANCEL: the layer answers it (200 if it matches a server INVITE transaction, else
    /// 481) in a transaction of its own, so retransmitted CANCELs get the same answer.
    fn handle_cancel(&mut self, now: Instant, key: TransactionKey, req: Request, source: Target) {
        let invite_key = key.with_method(Method::Invite);
        let (resp, cancelled) = match self.servers.get(&invite_key) {
            Some(inv) => {
                let mut ok = Response::for_request(&req, StatusCode::OK);
                // RFC 3261 §9.2: the same To tag as the INVITE's response, when there is one.
                match inv
                    .tx
                    .last_response()
                    .and_then(|r| r.headers.get(&HeaderName::To))
                {
                    Some(to) if to.contains(";tag=") => ok.headers.set(HeaderName::To, to),
                    _ => add_local_to_tag(&mut ok),
                }
                // RFC 3261 §9.2: after the final response a CANCEL has no effect.
                (ok, inv.tx.awaits_final().then_some(invite_key))
            }
            None => {
                let mut not_found = Response::for_request(&req, StatusCode::CALL_DOES_NOT_EXIST);
                add_local_to_tag(&mut not_found);
                (not_found, None)
            }
        };
        let serial = self.next_serial();
        let mut tx = ServerTransaction::new(key.clone(), req.clone(), source, now);
        if let Err(e) = tx.send_response(now, resp, &self.config, &mut self.outputs) {
            // Unreachable: a fresh non-INVITE transaction accepts its first final response.
            tracing::error!(%e, "cannot answer CANCEL");
        }
        self.servers.insert(key.clone(), Slot { serial, tx });
        if let Some(invite_key) = cancelled {
            let request = TransactionEvent::Request {
                key: key.clone(),
                request: req,
                source,
                cancelled: Some(invite_key),
            };
            event(&mut self.outputs, request);
        }
        self.reap_server(&key);
    }

    fn handle_response(&mut self, now: Instant, resp: Response) {
        let key = match TransactionKey::for_response(&resp) {
            Ok(key) => key,
            Err(e) => {
                tracing::debug!(%e, "response dropped: cannot identify its transaction");
                return;
            }
        };
        let Some(slot) = self.clients.get_mut(&key) else {
            tracing::debug!(?key, status = %resp.status, "response matches no transaction");
            return;
        };
        slot.tx
            .on_response(now, resp, &self.config, &mut self.outputs);
        self.settle_cancel(now, &key);
        self.reap_client(&key);
    }

    /// Sends a CANCEL waiting for its INVITE's provisional response, or drops it if the INVITE
    /// is past the point where cancelling makes sense.
    fn settle_cancel(&mut self, now: Instant, invite_key: &TransactionKey) {
        let (invite_state, cancel_key) = match self.clients.get(invite_key) {
            Some(Slot {
                tx: ClientTransaction::Invite(inv),
                ..
            }) => match &inv.cancel {
                Some(k) => (inv.state, k.clone()),
                None => return,
            },
            _ => return,
        };
        let Some(Slot {
            tx: ClientTransaction::NonInvite(cancel),
            ..
        }) = self.clients.get_mut(&cancel_key)
        else {
            return;
        };
        if cancel.state != NonInviteClientState::Waiting {
            return;
        }
        match invite_state {
            InviteClientState::Calling => {}
            InviteClientState::Proceeding => {
                let slot = self.clients.get_mut(&cancel_key);
                if let Some(slot) = slot {
                    slot.tx.start(now, &self.config, &mut self.outputs);
                }
            }
            _ => {
                tracing::debug!("INVITE ended before any provisional response; CANCEL dropped");
                cancel.state = NonInviteClientState::Terminated;
                self.reap_client(&cancel_key);
            }
        }
    }

    /// Removes a client transaction that reached Terminated and says so.
    fn reap_client(&mut self, key: &TransactionKey) {
        if self.clients.get(key).is_some_and(|s| s.tx.is_terminated()) {
            self.clients.remove(key);
            event(
                &mut self.outputs,
                TransactionEvent::Terminated { key: key.clone() },
            );
            // A CANCEL still waiting for this INVITE can never be sent now.
        }
    }

    fn reap_server(&mut self, key: &TransactionKey) {
        if self.servers.get(key).is_some_and(|s| s.tx.is_terminated()) {
            self.servers.remove(key);
            event(
                &mut self.outputs,
                TransactionEvent::Terminated { key: key.clone() },
            );
        }
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }
}

/// Pending outputs, drained by [`TransactionLayer::poll_output`].
type Outputs = VecDeque<TransactionOutput>;

/// The server key of a received request whose CSeq method agrees with its method (RFC 3261
/// §8.1.1.5); anything else is not a request we can hold a transaction for.
fn checked_server_key(req: &Request) -> Result<TransactionKey, HeaderError> {
    let cseq = req.cseq()?;
    if cseq.method != req.method {
        return Err(HeaderError::Malformed {
            header: "CSeq",
            reason: format!("method {} in a {} request", cseq.method, req.method),
        });
    }
    TransactionKey::for_incoming(req)
}

/// A retransmission timer: when it fires next, and the interval that led there.
#[derive(Debug, Clone, Copy)]
struct Retransmit {
    at: Instant,
    interval: Duration,
}

struct Slot<T> {
    serial: u64,
    tx: T,
}

fn transmit(out: &mut Outputs, target: Target, message: SipMessage) {
    out.push_back(TransactionOutput::Transmit { target, message });
}

fn event(out: &mut Outputs, event: TransactionEvent) {
    out.push_back(TransactionOutput::Event(event));
}
