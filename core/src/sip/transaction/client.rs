//! Client transactions: INVITE (RFC 3261 §17.1.1 with the RFC 6026 "Accepted" state) and
//! non-INVITE (§17.1.2).

use std::time::{Duration, Instant};

use super::key::derived_request;
use super::{Outputs, Retransmit, TimerConfig, TransactionEvent, TransactionKey};
use crate::sip::message::{HeaderName, Method, Request, Response, SipMessage, Target};

/// One client transaction of either kind.
pub(super) enum ClientTransaction {
    // Boxed: both keep a whole request, and the layer's map holds many of them.
    Invite(Box<InviteClient>),
    NonInvite(Box<NonInviteClient>),
}

impl ClientTransaction {
    /// Creates the transaction for `req`; it is not sent until [`Self::start`].
    pub(super) fn new(key: TransactionKey, request: Request, target: Target) -> ClientTransaction {
        if request.method == Method::Invite {
            ClientTransaction::Invite(Box::new(InviteClient {
                key,
                request,
                target,
                state: InviteClientState::Calling,
                retransmit: None,
                timer_b: None,
                linger: None,
                ack: None,
                cancel: None,
            }))
        } else {
            ClientTransaction::NonInvite(Box::new(NonInviteClient {
                key,
                request,
                target,
                state: NonInviteClientState::Waiting,
                retransmit: None,
                timer_f: None,
                linger: None,
            }))
        }
    }

    /// Sends the request for the first time and starts the timers.
    pub(super) fn start(&mut self, now: Instant, config: &TimerConfig, out: &mut Outputs) {
        match self {
            ClientTransaction::Invite(t) => t.start(now, config, out),
            ClientTransaction::NonInvite(t) => t.start(now, config, out),
        }
    }

    pub(super) fn on_response(
        &mut self,
        now: Instant,
        resp: Response,
        config: &TimerConfig,
        out: &mut Outputs,
    ) {
        match self {
            ClientTransaction::Invite(t) => t.on_response(now, resp, config, out),
            ClientTransaction::NonInvite(t) => t.on_response(now, resp, config, out),
        }
    }

    pub(super) fn on_timeout(&mut self, now: Instant, config: &TimerConfig, out: &mut Outputs) {
        match self {
            ClientTransaction::Invite(t) => t.on_timeout(now, out),
            ClientTransaction::NonInvite(t) => t.on_timeout(now, config, out),
        }
    }

    /// Ends a transaction that still waits for its final response because the transport to its
    /// target failed. Returns whether it was affected.
    pub(super) fn on_transport_error(&mut self, target: Target, out: &mut Outputs) -> bool {
        let (key, pending) = match self {
            ClientTransaction::Invite(t) => (
                &t.key,
                t.target == target
                    && matches!(
                        t.state,
                        InviteClientState::Calling | InviteClientState::Proceeding
                    ),
            ),
            ClientTransaction::NonInvite(t) => (
                &t.key,
                t.target == target
                    && matches!(
                        t.state,
                        NonInviteClientState::Trying | NonInviteClientState::Proceeding
                    ),
            ),
        };
        if pending {
            super::event(out, TransactionEvent::TransportError { key: key.clone() });
            self.terminate();
        }
        pending
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        match self {
            ClientTransaction::Invite(t) => {
                earliest(&[t.retransmit.map(|r| r.at), t.timer_b, t.linger])
            }
            ClientTransaction::NonInvite(t) => {
                earliest(&[t.retransmit.map(|r| r.at), t.timer_f, t.linger])
            }
        }
    }

    pub(super) fn is_terminated(&self) -> bool {
        match self {
            ClientTransaction::Invite(t) => t.state == InviteClientState::Terminated,
            ClientTransaction::NonInvite(t) => t.state == NonInviteClientState::Terminated,
        }
    }

    pub(super) fn terminate(&mut self) {
        match self {
            ClientTransaction::Invite(t) => t.state = InviteClientState::Terminated,
            ClientTransaction::NonInvite(t) => t.state = NonInviteClientState::Terminated,
        }
    }
}

/// RFC 3261 Figure 5, with RFC 6026 Figure 3's Accepted state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum InviteClientState {
    Calling,
    Proceeding,
    /// A 2xx arrived; further 2xx (retransmissions, other forks) go to the UA for Timer M.
    Accepted,
    /// A non-2xx final arrived and was ACKed; retransmissions are re-ACKed until Timer D.
    Completed,
    Terminated,
}

pub(super) struct InviteClient {
    key: TransactionKey,
    request: Request,
    target: Target,
    pub(super) state: InviteClientState,
    /// Timer A (unreliable transports only).
    retransmit: Option<Retransmit>,
    timer_b: Option<Instant>,
    /// Timer D (Completed) or Timer M (Accepted).
    linger: Option<Instant>,
    /// The ACK we sent for a non-2xx final, re-sent for each retransmission of that response.
    ack: Option<Request>,
    /// The CANCEL transaction for this INVITE, once the UA asked for one.
    pub(super) cancel: Option<TransactionKey>,
}

impl InviteClient {
    /// The INVITE, for building the CANCEL.
    pub(super) fn request(&self) -> &Request {
        &self.request
    }
    pub(super) fn target(&self) -> Target {
        self.target
    }

    fn start(&mut self, now: Instant, config: &TimerConfig, out: &mut Outputs) {
        super::transmit(out, self.target, SipMessage::Request(self.request.clone()));
        if !self.target.transport.is_reliable() {
            self.retransmit = Some(Retransmit {
                at: now + config.t1,
                interval: config.t1,
            });
        }
        self.timer_b = Some(now + config.t1 * 64);
    }

    fn on_response(
        &mut self,
        now: Instant,
        resp: Response,
        config: &TimerConfig,
        out: &mut Outputs,
    ) {
        use InviteClientState::*;
        let status = resp.status;
        match self.state {
            Calling | Proceeding if status.is_provisional() => {
                // Timer B only guards Calling (§17.1.1.2); once the far end answers, ending
                // the call attempt (CANCEL, Expires) is the UA's decision.
                self.state = Proceeding;
                self.retransmit = None;
                self.timer_b = None;
                self.pass_up(resp, out);
            }
            Calling | Proceeding if status.is_success() => {
                self.state = Accepted;
                self.retransmit = None;
                self.timer_b = None;
                self.linger = Some(now + config.t1 * 64);
                self.pass_up(resp, out);
            }
            Calling | Proceeding => {
                self.state = Completed;
                self.retransmit = None;
                self.timer_b = None;
                self.send_ack(&resp, out);
                if self.target.transport.is_reliable() {
                    self.state = Terminated;
                } else {
                    self.linger = Some(now + TIMER_D_UDP);
                }
                self.pass_up(resp, out);
            }
            Accepted if status.is_success() => self.pass_up(resp, out),
            Completed if status.is_final() && !status.is_success() => {
                if let Some(ack) = &self.ack {
                    super::transmit(out, self.target, SipMessage::Request(ack.clone()));
                }
            }
            _ => tracing::debug!(state = ?self.state, %status, "response absorbed"),
        }
    }

    fn on_timeout(&mut self, now: Instant, out: &mut Outputs) {
        use InviteClientState::*;
        if self.timer_b.is_some_and(|t| t <= now) {
            self.timer_b = None;
            if self.state == Calling {
                super::event(
                    out,
                    TransactionEvent::Timeout {
                        key: self.key.clone(),
                    },
                );
                self.state = Terminated;
                return;
            }
        }
        if self.linger.is_some_and(|t| t <= now) {
            self.linger = None;
            self.state = Terminated;
            return;
        }
        if let Some(r) = self.retransmit.filter(|r| r.at <= now) {
            // Timer A doubles without a cap (§17.1.1.2); Timer B ends it after six resends.
            self.retransmit = Some(Retransmit {
                at: now + r.interval * 2,
                interval: r.interval * 2,
            });
            super::transmit(out, self.target, SipMessage::Request(self.request.clone()));
        }
    }

    /// Builds and sends the ACK for a non-2xx final response (§17.1.1.3): same branch and
    /// Request-URI as the INVITE, To from the response.
    fn send_ack(&mut self, resp: &Response, out: &mut Outputs) {
        let to = resp.headers.get(&HeaderName::To).unwrap_or_default();
        match derived_request(&self.request, Method::Ack, to) {
            Ok(ack) => {
                super::transmit(out, self.target, SipMessage::Request(ack.clone()));
                self.ack = Some(ack);
            }
            // The INVITE came from our own UA, so this is a UA bug; the far end will
            // retransmit and finally give up on its Timer H.
            Err(e) => tracing::error!(%e, "cannot build ACK from the INVITE"),
        }
    }

    fn pass_up(&self, response: Response, out: &mut Outputs) {
        super::event(
            out,
            TransactionEvent::Response {
                key: self.key.clone(),
                response,
            },
        );
    }
}

/// RFC 3261 Figure 6, plus `Waiting` for a CANCEL held back until its INVITE got a provisional
/// response (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NonInviteClientState {
    Waiting,
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

pub(super) struct NonInviteClient {
    key: TransactionKey,
    request: Request,
    target: Target,
    pub(super) state: NonInviteClientState,
    /// Timer E (unreliable transports only).
    retransmit: Option<Retransmit>,
    timer_f: Option<Instant>,
    /// Timer K.
    linger: Option<Instant>,
}

impl NonInviteClient {
    fn start(&mut self, now: Instant, config: &TimerConfig, out: &mut Outputs) {
        self.state = NonInviteClientState::Trying;
        super::transmit(out, self.target, SipMessage::Request(self.request.clone()));
        if !self.target.transport.is_reliable() {
            self.retransmit = Some(Retransmit {
                at: now + config.t1,
                interval: config.t1,
            });
        }
        self.timer_f = Some(now + config.t1 * 64);
    }

    fn on_response(
        &mut self,
        now: Instant,
        resp: Response,
        config: &TimerConfig,
        out: &mut Outputs,
    ) {
        use NonInviteClientState::*;
        match self.state {
            Trying | Proceeding if resp.status.is_provisional() => {
                self.state = Proceeding;
                self.pass_up(resp, out);
            }
            Trying | Proceeding => {
                self.retransmit = None;
                self.timer_f = None;
                if self.target.transport.is_reliable() {
                    self.state = Terminated;
                } else {
                    self.state = Completed;
                    self.linger = Some(now + config.t4);
                }
                self.pass_up(resp, out);
            }
            _ => tracing::debug!(state = ?self.state, status = %resp.status, "response absorbed"),
        }
    }

    fn on_timeout(&mut self, now: Instant, config: &TimerConfig, out: &mut Outputs) {
        use NonInviteClientState::*;
        if self.timer_f.is_some_and(|t| t <= now) {
            self.timer_f = None;
            self.retransmit = None;
            super::event(
                out,
                TransactionEvent::Timeout {
                    key: self.key.clone(),
                },
            );
            self.state = Terminated;
            return;
        }
        if self.linger.is_some_and(|t| t <= now) {
            self.linger = None;
            self.state = Terminated;
            return;
        }
        if let Some(r) = self.retransmit.filter(|r| r.at <= now) {
            // §17.1.2.2: doubling capped at T2 while Trying, a flat T2 once Proceeding.
            let interval = match self.state {
                Proceeding => config.t2,
                _ => (r.interval * 2).min(config.t2),
            };
            self.retransmit = Some(Retransmit {
                at: now + interval,
                interval,
            });
            super::transmit(out, self.target, SipMessage::Request(self.request.clone()));
        }
    }

    fn pass_up(&self, response: Response, out: &mut Outputs) {
        super::event(
            out,
            TransactionEvent::Response {
                key: self.key.clone(),
                response,
            },
        );
    }
}

/// Timer D for unreliable transports: "at least 32 seconds" (§17.1.1.2), independent of T1.
const TIMER_D_UDP: Duration = Duration::from_secs(32);

fn earliest(times: &[Option<Instant>]) -> Option<Instant> {
    times.iter().flatten().min().copied()
}
