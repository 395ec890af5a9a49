//! One call: the INVITE session (RFC 3261 §13–15) in both directions, hold/resume by re-INVITE
//! (RFC 3264 §8.4), CANCEL and BYE, 2xx retransmission until ACK (§13.3.1.4), glare (§14.1).

use std::time::{Duration, Instant};

use rand::Rng;

use super::dialog::Dialog;
use super::media::{NegotiatedMedia, SdpSession};
use super::security::SecurityInfo;
use super::util::{add_to_tag, random_token};
use super::{Owner, UaError, UaEvent, UserAgent};
use crate::sip::auth::{select_challenge, ChallengeVerdict, DigestClient};
use crate::sip::message::*;
use crate::sip::transaction::TransactionKey;
use crate::sip::uri::{Scheme, Uri};

mod reinvite;
mod requests;
mod types;

pub use self::types::{CallHandle, CallState, Party};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Outgoing,
    Incoming,
}

/// A 2xx we keep sending until the ACK arrives.
struct PendingAck {
    response: Vec<u8>,
    target: Target,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

pub(super) struct Call {
    pub(super) handle: CallHandle,
    direction: Direction,
    state: CallState,
    dialog: Dialog,
    /// Whether the dialog is confirmed (2xx sent/received).
    confirmed: bool,
    peer: String,
    /// The INVITE transaction (client or server) of the initial INVITE while it is pending.
    invite_key: Option<TransactionKey>,
    /// The last INVITE we sent (outgoing: for auth retries) or received (incoming: for
    /// responses).
    invite: Option<Request>,
    invite_cseq: u32,
    provisional_seen: bool,
    cancel_wanted: bool,
    target: Target,
    auth: Option<(HeaderName, DigestClient)>,
    auth_rounds: u32,
    sdp: SdpSession,
    /// Our re-INVITE in flight: its key, the request and whether it holds.
    reinvite: Option<(TransactionKey, Request, bool)>,
    /// A re-INVITE the peer sent that we answered; its 2xx waits for an ACK.
    pending_ack: Option<PendingAck>,
    last_ack: Option<(Target, Vec<u8>)>,
    glare_retry: Option<(Instant, bool)>,
    local_hold: bool,
    remote_hold: bool,
    ended_at: Option<Instant>,
    /// We hung up after our 2xx but before its ACK: the BYE waits for the ACK (§15).
    bye_after_ack: bool,
    /// What we last told the user about the call's protection.
    security: Option<SecurityInfo>,
}

const MAX_AUTH_ROUNDS: u32 = 3;
/// How long an ended call keeps absorbing retransmissions before it is forgotten.
const LINGER: Duration = Duration::from_secs(32);

impl Call {
    pub(super) fn outgoing(
        ua: &mut UserAgent,
        now: Instant,
        handle: CallHandle,
        uri: Uri,
        target: Target,
    ) -> Result<Call, UaError> {
        let transport = target.transport;
        let local = match &ua.config.account {
            Some(acc) => {
                let mut na = NameAddr::new(acc.aor());
                na.display = acc.display_name.clone();
                na
            }
            None => {
                let addr = ua.local_addr(transport)?;
                NameAddr::new(Uri::new(
                    Scheme::Sip,
                    Some(&ua.local_user()),
                    addr.ip().into(),
                    None,
                ))
            }
        };
        let mut remote_uri = uri.clone();
        remote_uri.headers.clear();
        let host = ua.local_addr(transport)?.ip();
        let dialog = Dialog {
            call_id: CallId(format!("{}@{}", random_token(&mut ua.rng, 20), host)),
            local_tag: Tag(random_token(&mut ua.rng, 10)),
            remote_tag: None,
            local,
            remote: NameAddr::new(remote_uri),
            local_seq: 0,
            remote_seq: None,
            remote_target: uri.clone(),
            route_set: Vec::new(),
            transport,
        };
        let sdp = SdpSession::new(
            &mut ua.rng,
            ua.config.media.clone(),
            ua.config.encryption,
            transport == Transport::Tls || ua.config.allow_insecure_sdes,
            ua.config.zrtp.as_ref(),
        );
        if let Some(why) = sdp.offer_refusal() {
            return Err(UaError::InsecureSdes(why));
        }
        let peer = uri.to_string();
        let mut call = Call::fresh(handle, Direction::Outgoing, dialog, peer, target, sdp);
        call.send_initial_invite(ua, now)?;
        call.emit(ua, CallState::Calling, None, None, None);
        Ok(call)
    }

    /// A new incoming INVITE. On refusal returns the response to send.
    pub(super) fn incoming(
        ua: &mut UserAgent,
        now: Instant,
        handle: CallHandle,
        key: TransactionKey,
        invite: Request,
        source: Target,
    ) -> Result<Call, Box<Response>> {
        let bad = |why: &str| {
            let mut r = Response::for_request(&invite, StatusCode::BAD_REQUEST);
            r.reason = format!("Bad Request ({why})");
            Box::new(r)
        };
        let call_id = invite.call_id().map_err(|_| bad("Call-ID"))?;
        let from = invite.from_header().map_err(|_| bad("From"))?;
        let to = invite.to_header().map_err(|_| bad("To"))?;
        let cseq = invite.cseq().map_err(|_| bad("CSeq"))?;
        let contact = invite
            .contacts()
            .ok()
            .and_then(|c| c.into_iter().next())
            .ok_or_else(|| bad("INVITE without a valid Contact"))?;
        let route_set = invite
            .record_routes()
            .map_err(|_| bad("Record-Route"))?
            .into_iter()
            .map(|na| na.uri)
            .collect();
        let sdp = SdpSession::new(
            &mut ua.rng,
            ua.config.media.clone(),
            ua.config.encryption,
            source.transport == Transport::Tls || ua.config.allow_insecure_sdes,
            ua.config.zrtp.as_ref(),
        );
        // Check the offer now so an unusable one is refused before the phone rings.
        if !invite.body.is_empty() {
            if let Err(why) = sdp.check_offer(&invite.body) {
                let mut r = Response::for_request(&invite, StatusCode::NOT_ACCEPTABLE_HERE);
                r.reason = format!("Not Acceptable Here ({why})");
                return Err(Box::new(r));
            }
        }
        let mut remote = from.clone();
        remote.params = Params::default();
        let mut local = to.clone();
        local.params = Params::default();
        let dialog = Dialog {
            call_id,
            local_tag: Tag(random_token(&mut ua.rng, 10)),
            remote_tag: from.tag(),
            local,
            remote,
            local_seq: 0,
            remote_seq: Some(cseq.seq),
            remote_target: contact.uri,
            route_set,
            transport: source.transport,
        };
        let peer = from.uri.to_string();
        let call = Call {
            invite_key: Some(key),
            invite: Some(invite),
            invite_cseq: cseq.seq,
            provisional_seen: true,
            ..Call::fresh(handle, Direction::Incoming, dialog, peer, source, sdp)
        };
        let ringing = call.response_to_invite(ua, StatusCode::RINGING, false);
        ua.respond(now, ringing);
        call.emit(ua, CallState::Incoming, None, None, None);
        Ok(call)
    }

    /// A call in its first state; `outgoing`/`incoming` fill in what they know more.
    fn fresh(
        handle: CallHandle,
        direction: Direction,
        dialog: Dialog,
        peer: String,
        target: Target,
        sdp: SdpSession,
    ) -> Call {
        Call {
            handle,
            direction,
            state: match direction {
                Direction::Outgoing => CallState::Calling,
                Direction::Incoming => CallState::Incoming,
            },
            dialog,
            confirmed: false,
            peer,
            invite_key: None,
            invite: None,
            invite_cseq: 0,
            provisional_seen: false,
            cancel_wanted: false,
            target,
            auth: None,
            auth_rounds: 0,
            sdp,
            reinvite: None,
            pending_ack: None,
            last_ack: None,
            glare_retry: None,
            local_hold: false,
            remote_hold: false,
            ended_at: None,
            security: None,
            bye_after_ack: false,
        }
    }

    pub(super) fn state(&self) -> CallState {
        self.state
    }

    pub(super) fn is_over(&self) -> bool {
        matches!(self.state, CallState::Ended | CallState::Failed)
    }

    pub(super) fn can_forget(&self, now: Instant) -> bool {
        self.ended_at.is_some_and(|t| now >= t + LINGER)
    }

    pub(super) fn has_server_invite(&self, key: &TransactionKey) -> bool {
        self.direction == Direction::Incoming && self.invite_key.as_ref() == Some(key)
    }

    pub(super) fn matches_dialog(
        &self,
        call_id: &CallId,
        local: &Tag,
        remote: Option<&Tag>,
    ) -> bool {
        self.dialog.matches(call_id, local, remote)
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        let a = self.pending_ack.as_ref().map(|p| p.next.min(p.give_up));
        let b = self.glare_retry.map(|(t, _)| t);
        let c = self.ended_at.map(|t| t + LINGER);
        [a, b, c].into_iter().flatten().min()
    }

    // ---- commands ----

    pub(super) fn answer(&mut self, ua: &mut UserAgent, now: Instant) -> Result<(), UaError> {
        if self.direction != Direction::Incoming
            || self.state != CallState::Incoming
            || self.confirmed
        {
            return Err(UaError::InvalidState(
                "only a ringing incoming call can be answered",
            ));
        }
        let offer = self
            .invite
            .as_ref()
            .map(|r| r.body.clone())
            .unwrap_or_default();
        let local_ip = ua.local_addr(self.dialog.transport)?.ip();
        let (body, media) = if offer.is_empty() {
            (self.sdp.offer(local_ip, false), None)
        } else {
            match self.sdp.answer(local_ip, &offer, false) {
                Ok((body, media)) => (body, Some(media)),
                Err(why) => {
                    let mut r = self.response_to_invite(ua, StatusCode::NOT_ACCEPTABLE_HERE, false);
                    r.reason = format!("Not Acceptable Here ({why})");
                    ua.respond(now, r);
                    self.end(
                        ua,
                        now,
                        CallState::Failed,
                        Some(488),
                        Some(why),
                        Some(Party::Local),
                    );
                    return Ok(());
                }
            }
        };
        let mut ok = self.response_to_invite(ua, StatusCode::OK, true);
        ok.headers.push(HeaderName::ContentType, "application/sdp");
        ok.body = body;
        self.send_2xx(ua, now, ok);
        self.confirmed = true;
        self.invite_key = None;
        if let Some(media) = media {
            self.emit_media(ua, media);
        }
        Ok(())
    }

    pub(super) fn reject(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        status: u16,
    ) -> Result<(), UaError> {
        if self.direction != Direction::Incoming
            || self.state != CallState::Incoming
            || self.confirmed
        {
            return Err(UaError::InvalidState(
                "only a ringing incoming call can be rejected",
            ));
        }
        let status = StatusCode::new(status)
            .filter(|s| s.code() >= 300)
            .unwrap_or(StatusCode::DECLINE);
        let resp = self.response_to_invite(ua, status, false);
        let reason = resp.reason.clone();
        ua.respond(now, resp);
        self.invite_key = None;
        self.end(
            ua,
            now,
            CallState::Ended,
            Some(status.code()),
            Some(reason),
            Some(Party::Local),
        );
        Ok(())
    }

    pub(super) fn hangup(&mut self, ua: &mut UserAgent, now: Instant) -> Result<(), UaError> {
        match self.state {
            CallState::Ended | CallState::Failed => Err(UaError::InvalidState("the call is over")),
            CallState::Incoming if !self.confirmed => self.reject(ua, now, 603),
            CallState::Incoming => {
                // Answered, ACK not in yet: the BYE goes once it arrives, or when we give up
                // waiting for it (RFC 3261 §15).
                self.bye_after_ack = true;
                self.end(ua, now, CallState::Ended, None, None, Some(Party::Local));
                Ok(())
            }
            CallState::Calling | CallState::Ringing if !self.confirmed => {
                // Without a provisional yet the transaction layer holds the CANCEL until one
                // arrives (§9.1); a 2xx racing it is ACKed and ended with BYE.
                self.cancel_wanted = true;
                self.send_cancel(ua, now);
                self.end(ua, now, CallState::Ended, None, None, Some(Party::Local));
                Ok(())
            }
            _ => {
                self.send_bye(ua, now);
                self.end(ua, now, CallState::Ended, None, None, Some(Party::Local));
                Ok(())
            }
        }
    }

    // ---- network input ----

    pub(super) fn on_response(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        key: &TransactionKey,
        resp: Response,
    ) {
        if self.invite_key.as_ref() == Some(key) {
            self.on_invite_response(ua, now, resp);
        } else if self.reinvite.as_ref().is_some_and(|(k, _, _)| k == key) {
            self.on_reinvite_response(ua, now, resp);
        }
        // Responses to BYE/CANCEL need no action: the call already ended.
    }

    pub(super) fn on_failure(&mut self, ua: &mut UserAgent, now: Instant, key: &TransactionKey) {
        if self.invite_key.as_ref() == Some(key) {
            self.invite_key = None;
            if !self.is_over() {
                let (status, reason) = match ua.last_transport_error.take() {
                    Some((t, error)) if t == self.target => {
                        (503, format!("cannot reach {t}: {error}"))
                    }
                    _ => (
                        408,
                        "Request Timeout (no answer from the network)".to_string(),
                    ),
                };
                self.end(ua, now, CallState::Failed, Some(status), Some(reason), None);
            }
        } else if self.reinvite.as_ref().is_some_and(|(k, _, _)| k == key) {
            // RFC 3261 §14.1: a timed-out re-INVITE ends the dialog.
            self.reinvite = None;
            self.send_bye(ua, now);
            self.end(
                ua,
                now,
                CallState::Ended,
                Some(408),
                Some("Request Timeout (re-INVITE unanswered)".into()),
                Some(Party::Local),
            );
        }
    }

    pub(super) fn on_cancel(&mut self, ua: &mut UserAgent, now: Instant) {
        if self.state != CallState::Incoming {
            return;
        }
        let resp = self.response_to_invite(ua, StatusCode::REQUEST_TERMINATED, false);
        ua.respond(now, resp);
        self.invite_key = None;
        self.end(
            ua,
            now,
            CallState::Ended,
            Some(487),
            Some("Request Terminated (caller cancelled)".into()),
            Some(Party::Remote),
        );
    }

    pub(super) fn on_ack(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        ack: &Request,
        _source: Target,
    ) {
        let Ok(cseq) = ack.cseq() else { return };
        let Some(pending) = &self.pending_ack else {
            return;
        };
        let _ = pending;
        self.pending_ack = None;
        if self.bye_after_ack {
            self.bye_after_ack = false;
            return self.send_bye(ua, now);
        }
        if !ack.body.is_empty() {
            // Offer in our 2xx, answer in the ACK.
            match self.sdp.process_answer(&ack.body) {
                Ok(media) => self.emit_media(ua, media),
                Err(why) => tracing::warn!(%why, "unusable SDP answer in ACK"),
            }
        }
        if cseq.seq == self.invite_cseq && self.state == CallState::Incoming {
            self.set_state(ua, CallState::Connected);
        }
        let _ = now;
    }

    pub(super) fn on_2xx_retransmission(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        resp: &Response,
    ) {
        if let Some((target, ack)) = &self.last_ack {
            ua.transmit(*target, ack.clone());
        } else if self.is_over() {
            // A 2xx after we gave up (CANCEL raced it): ACK and BYE it.
            self.confirm_from_2xx(ua, resp);
            self.send_ack(ua, now, self.invite_cseq);
            self.send_bye(ua, now);
        }
    }

    pub(super) fn on_request(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        _key: TransactionKey,
        req: Request,
        source: Target,
    ) {
        let Ok(cseq) = req.cseq() else { return };
        if req.method != Method::Ack {
            if self.dialog.remote_seq.is_some_and(|seen| cseq.seq <= seen) {
                let mut r = Response::for_request(&req, StatusCode::SERVER_INTERNAL_ERROR);
                r.reason = "Server Internal Error (CSeq out of order)".into();
                return ua.respond(now, r);
            }
            self.dialog.remote_seq = Some(cseq.seq);
        }
        match req.method {
            Method::Bye => {
                ua.respond(now, Response::for_request(&req, StatusCode::OK));
                self.pending_ack = None;
                if !self.is_over() {
                    self.end(ua, now, CallState::Ended, None, None, Some(Party::Remote));
                }
            }
            Method::Invite => self.on_reinvite(ua, now, req, source),
            Method::Options | Method::Info | Method::Notify | Method::Update | Method::Message => {
                ua.respond(now, Response::for_request(&req, StatusCode::OK));
            }
            _ => {
                let mut r = Response::for_request(&req, StatusCode::NOT_IMPLEMENTED);
                r.headers.push(HeaderName::Allow, super::ALLOW);
                ua.respond(now, r);
            }
        }
    }

    pub(super) fn handle_timeout(&mut self, ua: &mut UserAgent, now: Instant) {
        if let Some(p) = &mut self.pending_ack {
            if now >= p.give_up {
                self.pending_ack = None;
                tracing::warn!(call = %self.handle, "no ACK for our 2xx; ending the call");
                self.send_bye(ua, now);
                if !self.is_over() {
                    self.end(
                        ua,
                        now,
                        CallState::Ended,
                        Some(408),
                        Some("no ACK from the peer".into()),
                        Some(Party::Local),
                    );
                }
            } else if now >= p.next {
                ua.transmit(p.target, p.response.clone());
                p.interval = (p.interval * 2).min(ua.config.timers.t2);
                p.next = now + p.interval;
            }
        }
        if let Some((at, hold)) = self.glare_retry {
            if now >= at {
                self.glare_retry = None;
                if !self.is_over() && self.reinvite.is_none() {
                    let _ = self.send_reinvite(ua, now, hold);
                }
            }
        }
    }

    // ---- internals ----

    fn on_invite_response(&mut self, ua: &mut UserAgent, now: Instant, resp: Response) {
        let code = resp.status.code();
        if resp.status.is_provisional() {
            if code == 100 {
                self.provisional_seen = true;
            } else {
                self.provisional_seen = true;
                if let Some(tag) = resp.to_header().ok().and_then(|t| t.tag()) {
                    self.dialog.remote_tag.get_or_insert(tag);
                }
                if self.state == CallState::Calling {
                    self.set_state(ua, CallState::Ringing);
                }
            }
            return;
        }
        if resp.status.is_success() {
            self.invite_key = None;
            if self.confirmed {
                return self.on_2xx_retransmission(ua, now, &resp);
            }
            self.confirm_from_2xx(ua, &resp);
            self.send_ack(ua, now, self.invite_cseq);
            if self.cancel_wanted || self.is_over() {
                // We hung up while the 2xx was on its way.
                self.send_bye(ua, now);
                return;
            }
            match self.sdp.process_answer(&resp.body) {
                Ok(media) => self.emit_media(ua, media),
                Err(why) => {
                    tracing::warn!(%why, "unusable SDP answer; hanging up");
                    self.send_bye(ua, now);
                    return self.end(
                        ua,
                        now,
                        CallState::Failed,
                        Some(488),
                        Some(format!("unusable SDP answer: {why}")),
                        Some(Party::Local),
                    );
                }
            }
            return self.set_state(ua, CallState::Connected);
        }
        if (code == 401 || code == 407)
            && !self.cancel_wanted
            && self.retry_with_auth(ua, now, &resp)
        {
            return;
        }
        self.invite_key = None;
        if self.is_over() {
            return; // e.g. the 487 to our CANCEL
        }
        self.end(
            ua,
            now,
            CallState::Failed,
            Some(code),
            Some(resp.reason.clone()),
            Some(Party::Remote),
        );
    }

    fn send_initial_invite(&mut self, ua: &mut UserAgent, now: Instant) -> Result<(), UaError> {
        let transport = self.target.transport;
        let contact = ua.contact_uri(transport)?;
        let via = ua.new_via(transport)?;
        self.dialog.local_seq += 1;
        self.invite_cseq = self.dialog.local_seq;
        let mut req = self
            .dialog
            .request(Method::Invite, self.invite_cseq, via, Some(&contact));
        if let Some(proxy) = ua
            .config
            .account
            .as_ref()
            .and_then(|a| a.outbound_proxy.clone())
        {
            let mut route = proxy;
            route.params.set("lr", None);
            req.headers.push(HeaderName::Route, format!("<{route}>"));
        }
        self.decorate(ua, &mut req);
        let local_ip = ua.local_addr(transport)?.ip();
        // Keep the same offer across auth retries (same o= version).
        let body = match &self.invite {
            Some(prev) if !prev.body.is_empty() => prev.body.clone(),
            _ => self.sdp.offer(local_ip, false),
        };
        req.headers.push(HeaderName::ContentType, "application/sdp");
        req.body = body;
        self.add_credentials(ua, &mut req);
        self.invite = Some(req.clone());
        let key = ua.send_request(now, req, self.target, Owner::Call(self.handle));
        self.invite_key = Some(key);
        Ok(())
    }

    fn decorate(&self, ua: &UserAgent, req: &mut Request) {
        req.headers.push(HeaderName::Allow, super::ALLOW);
        req.headers
            .push(HeaderName::UserAgent, ua.config.user_agent.clone());
    }

    fn confirm_from_2xx(&mut self, ua: &mut UserAgent, resp: &Response) {
        if let Some(tag) = resp.to_header().ok().and_then(|t| t.tag()) {
            self.dialog.remote_tag = Some(tag);
        }
        if let Some(c) = resp.contacts().ok().and_then(|c| c.into_iter().next()) {
            self.dialog.remote_target = c.uri;
        }
        // The UAC's route set is the Record-Route of the 2xx, reversed (§12.1.2).
        if let Ok(rr) = resp.record_routes() {
            self.dialog.route_set = rr.into_iter().rev().map(|na| na.uri).collect();
        }
        self.confirmed = true;
        let _ = ua;
    }

    /// Sends a 2xx to an INVITE through the transaction layer and keeps retransmitting it
    /// until the ACK (§13.3.1.4).
    fn send_2xx(&mut self, ua: &mut UserAgent, now: Instant, mut ok: Response) {
        if ok.headers.get(&HeaderName::Server).is_none() {
            ok.headers
                .push(HeaderName::Server, ua.config.user_agent.clone());
        }
        let bytes = ok.to_bytes();
        let t1 = ua.config.timers.t1;
        ua.respond(now, ok);
        self.pending_ack = Some(PendingAck {
            response: bytes,
            target: self.target,
            next: now + t1,
            interval: t1,
            give_up: now + t1 * 64,
        });
    }

    fn response_to_invite(&self, ua: &UserAgent, status: StatusCode, contact: bool) -> Response {
        let Some(invite) = &self.invite else {
            return Response::new(status);
        };
        let mut r = Response::for_request(invite, status);
        if status.code() > 100 {
            add_to_tag(&mut r, &self.dialog.local_tag.0);
        }
        if contact || (status.code() > 100 && status.code() < 200) {
            if let Ok(c) = ua.contact_uri(self.dialog.transport) {
                r.headers.push(HeaderName::Contact, format!("<{c}>"));
            }
        }
        r
    }

    /// Reports negotiated media (with its SRTP keys) and, when it changed, the call's security.
    fn emit_media(&mut self, ua: &mut UserAgent, media: NegotiatedMedia) {
        let srtp = self.sdp.srtp().cloned();
        let tls = self.dialog.transport == Transport::Tls;
        let info = SecurityInfo::new(srtp.as_ref(), tls, ua.config.tls_unverified);
        ua.emit(UaEvent::Media {
            call: self.handle,
            media: Box::new(media),
            srtp,
            zrtp: self.sdp.zrtp(),
        });
        // With ZRTP the media path reports security (SAS, cipher) once the exchange is done.
        if !ua.config.encryption.is_zrtp() && self.security.as_ref() != Some(&info) {
            self.security = Some(info.clone());
            ua.emit(UaEvent::Security {
                call: self.handle,
                info,
            });
        }
    }

    fn set_state(&mut self, ua: &mut UserAgent, state: CallState) {
        if self.state != state {
            self.state = state;
            self.emit(ua, state, None, None, None);
        }
    }

    fn end(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        state: CallState,
        status: Option<u16>,
        reason: Option<String>,
        by: Option<Party>,
    ) {
        self.state = state;
        self.ended_at = Some(now);
        self.emit(ua, state, status, reason, by);
    }

    fn emit(
        &self,
        ua: &mut UserAgent,
        state: CallState,
        status: Option<u16>,
        reason: Option<String>,
        by: Option<Party>,
    ) {
        ua.emit(UaEvent::Call {
            call: self.handle,
            state,
            status,
            reason,
            peer: self.peer.clone(),
            by,
        });
    }
}

impl NegotiatedMedia {
    /// Whether the peer put the stream on hold: its offer says it will not receive
    /// (`sendonly` or `inactive`, RFC 3264 §8.4).
    pub fn remote_holds(&self) -> bool {
        !self.remote_direction.receives()
    }
}
