//! Server transactions: INVITE (RFC 3261 §17.2.1 with the RFC 6026 "Accepted" state) and
//! non-INVITE (§17.2.2).

use std::time::{Duration, Instant};

use super::{Outputs, Retransmit, TimerConfig, TransactionError, TransactionEvent, TransactionKey};
use crate::sip::message::{Method, Request, Response, SipMessage, StatusCode, Target};

/// One server transaction of either kind.
pub(super) enum ServerTransaction {
    // Boxed: an INVITE transaction keeps the request for its 100 Trying.
    Invite(Box<InviteServer>),
    NonInvite(NonInviteServer),
}

/// What the layer should do with an ACK that matched a server INVITE transaction.
pub(super) enum AckOutcome {
    Absorbed,
    /// The ACK for a 2xx reusing the INVITE's branch (RFC 6026 §7.1): it belongs to the UA.
    PassUp,
}

impl ServerTransaction {
    pub(super) fn new(
        key: TransactionKey,
        request: Request,
        source: Target,
        now: Instant,
    ) -> ServerTransaction {
        if request.method == Method::Invite {
            ServerTransaction::Invite(Box::new(InviteServer {
                key,
                request,
                source,
                state: InviteServerState::Proceeding,
                last_response: None,
                auto_trying: Some(now + AUTO_TRYING_DELAY),
                retransmit: None,
                timer_h: None,
                linger: None,
            }))
        } else {
            ServerTransaction::NonInvite(NonInviteServer {
                source,
                state: NonInviteServerState::Trying,
                last_response: None,
                linger: None,
            })
        }
    }

    /// A retransmission of the request that created the transaction.
    pub(super) fn on_retransmission(&mut self, out: &mut Outputs) {
        let (source, response) = match self {
            ServerTransaction::Invite(t) => {
                // RFC 6026 §7.1: in Accepted the INVITE is absorbed; the UA's 2xx
                // retransmissions answer it. In Confirmed the ACK already arrived.
                let resend = matches!(
                    t.state,
                    InviteServerState::Proceeding | InviteServerState::Completed
                );
                (t.source, t.last_response.as_ref().filter(|_| resend))
            }
            ServerTransaction::NonInvite(t) => (t.source, t.last_response.as_ref()),
        };
        match response {
            Some(r) => super::transmit(out, source, SipMessage::Response(r.clone())),
            None => tracing::trace!("request retransmission absorbed"),
        }
    }

    pub(super) fn on_ack(&mut self, now: Instant, config: &TimerConfig) -> AckOutcome {
        let ServerTransaction::Invite(t) = self else {
            return AckOutcome::Absorbed;
        };
        match t.state {
            InviteServerState::Completed => {
                t.retransmit = None;
                t.timer_h = None;
                if t.source.transport.is_reliable() {
                    t.state = InviteServerState::Terminated;
                } else {
                    t.state = InviteServerState::Confirmed;
                    t.linger = Some(now + config.t4);
                }
                AckOutcome::Absorbed
            }
            InviteServerState::Accepted => AckOutcome::PassUp,
            _ => AckOutcome::Absorbed,
        }
    }

    pub(super) fn send_response(
        &mut self,
        now: Instant,
        resp: Response,
        config: &TimerConfig,
        out: &mut Outputs,
    ) -> Result<(), TransactionError> {
        match self {
            ServerTransaction::Invite(t) => t.send_response(now, resp, config, out),
            ServerTransaction::NonInvite(t) => t.send_response(now, resp, config, out),
        }
    }

    pub(super) fn on_timeout(&mut self, now: Instant, config: &TimerConfig, out: &mut Outputs) {
        match self {
            ServerTransaction::Invite(t) => t.on_timeout(now, config, out),
            ServerTransaction::NonInvite(t) => {
                if t.linger.is_some_and(|at| at <= now) {
                    t.state = NonInviteServerState::Terminated;
                }
            }
        }
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        match self {
            ServerTransaction::Invite(t) => [
                t.auto_trying,
                t.retransmit.map(|r| r.at),
                t.timer_h,
                t.linger,
            ]
            .into_iter()
            .flatten()
            .min(),
            ServerTransaction::NonInvite(t) => t.linger,
        }
    }

    pub(super) fn is_terminated(&self) -> bool {
        match self {
            ServerTransaction::Invite(t) => t.state == InviteServerState::Terminated,
            ServerTransaction::NonInvite(t) => t.state == NonInviteServerState::Terminated,
        }
    }

    /// Whether the UA may still answer: the INVITE has no final response yet. A CANCEL only
    /// reaches the UA in that case (RFC 3261 §9.2).
    pub(super) fn awaits_final(&self) -> bool {
        match self {
            ServerTransaction::Invite(t) => t.state == InviteServerState::Proceeding,
            ServerTransaction::NonInvite(t) => matches!(
                t.state,
                NonInviteServerState::Trying | NonInviteServerState::Proceeding
            ),
        }
    }

    /// The last response sent (its To tag is reused for the 200 to a CANCEL, §9.2).
    pub(super) fn last_response(&self) -> Option<&Response> {
        match self {
            ServerTransaction::Invite(t) => t.last_response.as_ref(),
            ServerTransaction::NonInvite(t) => t.last_response.as_ref(),
        }
    }
}

/// RFC 3261 Figure 7, with RFC 6026 Figure 5's Accepted state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InviteServerState {
    Proceeding,
    /// A non-2xx final was sent; it is retransmitted (Timer G) until the ACK or Timer H.
    Completed,
    /// The ACK arrived; later ACKs are absorbed until Timer I.
    Confirmed,
    /// A 2xx was sent; the UA retransmits it (§13.3.1.4) until Timer L.
    Accepted,
    Terminated,
}

pub(super) struct InviteServer {
    key: TransactionKey,
    request: Request,
    source: Target,
    state: InviteServerState,
    last_response: Option<Response>,
    /// When the layer sends 100 Trying if the UA has not answered yet (§17.2.1).
    auto_trying: Option<Instant>,
    /// Timer G (unreliable transports only).
    retransmit: Option<Retransmit>,
    timer_h: Option<Instant>,
    /// Timer I (Confirmed) or Timer L (Accepted).
    linger: Option<Instant>,
}

impl InviteServer {
    fn send_response(
        &mut self,
        now: Instant,
        resp: Response,
        config: &TimerConfig,
        out: &mut Outputs,
    ) -> Result<(), TransactionError> {
        use InviteServerState::*;
        let status = resp.status;
        match self.state {
            Proceeding if status.is_provisional() => {}
            Proceeding if status.is_success() => {
                self.state = Accepted;
                self.linger = Some(now + config.t1 * 64);
            }
            Proceeding => {
                self.state = Completed;
                if !self.source.transport.is_reliable() {
                    self.retransmit = Some(Retransmit {
                        at: now + config.t1,
                        interval: config.t1,
                    });
                }
                self.timer_h = Some(now + config.t1 * 64);
            }
            // The UA's own 2xx retransmissions (RFC 6026 §7.1).
            Accepted if status.is_success() => {}
            _ => return Err(TransactionError::AlreadyFinal),
        }
        self.auto_trying = None;
        super::transmit(out, self.source, SipMessage::Response(resp.clone()));
        self.last_response = Some(resp);
        Ok(())
    }

    fn on_timeout(&mut self, now: Instant, config: &TimerConfig, out: &mut Outputs) {
        use InviteServerState::*;
        if self.auto_trying.is_some_and(|t| t <= now) {
            self.auto_trying = None;
            let trying = Response::for_request(&self.request, StatusCode::TRYING);
            super::transmit(out, self.source, SipMessage::Response(trying.clone()));
            self.last_response = Some(trying);
        }
        if self.timer_h.is_some_and(|t| t <= now) {
            self.timer_h = None;
            self.retransmit = None;
            super::event(
                out,
                TransactionEvent::AckTimeout {
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
            let interval = (r.interval * 2).min(config.t2);
            self.retransmit = Some(Retransmit {
                at: now + interval,
                interval,
            });
            if let Some(resp) = &self.last_response {
                super::transmit(out, self.source, SipMessage::Response(resp.clone()));
            }
        }
    }
}

/// RFC 3261 Figure 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NonInviteServerState {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

pub(super) struct NonInviteServer {
    source: Target,
    state: NonInviteServerState,
    last_response: Option<Response>,
    /// Timer J.
    linger: Option<Instant>,
}

impl NonInviteServer {
    fn send_response(
        &mut self,
        now: Instant,
        resp: Response,
        config: &TimerConfig,
        out: &mut Outputs,
    ) -> Result<(), TransactionError> {
        use NonInviteServerState::*;
        match self.state {
            Trying | Proceeding if resp.status.is_provisional() => self.state = Proceeding,
            Trying | Proceeding => {
                if self.source.transport.is_reliable() {
                    self.state = Terminated;
                } else {
                    self.state = Completed;
                    self.linger = Some(now + config.t1 * 64);
                }
            }
            _ => return Err(TransactionError::AlreadyFinal),
        }
        super::transmit(out, self.source, SipMessage::Response(resp.clone()));
        self.last_response = Some(resp);
        Ok(())
    }
}

/// §17.2.1: a 100 Trying goes out if the UA has not answered an INVITE within 200 ms.
const AUTO_TRYING_DELAY: Duration = Duration::from_millis(200);
