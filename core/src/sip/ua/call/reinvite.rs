//! Re-INVITEs within a call (RFC 3261 §14): hold and resume, session refresh after a network
//! change, glare (491) and its retry, the peer's re-offers.

use super::*;

impl Call {
    pub(in crate::sip::ua) fn set_hold(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        hold: bool,
    ) -> Result<(), UaError> {
        if !self.confirmed || self.is_over() {
            return Err(UaError::InvalidState(
                "hold and resume need a connected call",
            ));
        }
        if self.reinvite.is_some() || self.pending_ack.is_some() {
            return Err(UaError::InvalidState(
                "another offer/answer exchange is in progress",
            ));
        }
        self.send_reinvite(ua, now, hold)
    }

    /// Offer the current session again (same hold state), e.g. from a new local address after
    /// the device changed networks. Quietly skipped while another exchange is in progress.
    pub(in crate::sip::ua) fn refresh(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
    ) -> Result<(), UaError> {
        if !self.confirmed || self.is_over() || self.reinvite.is_some() {
            return Ok(());
        }
        if self.pending_ack.is_some() {
            return Ok(());
        }
        self.send_reinvite(ua, now, self.local_hold)
    }

    pub(super) fn send_reinvite(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        hold: bool,
    ) -> Result<(), UaError> {
        let target = ua.dialog_target(self.dialog.next_hop(), self.dialog.transport)?;
        let via = ua.new_via(target.transport)?;
        let contact = ua.contact_uri(target.transport)?;
        let local_ip = ua.local_addr(target.transport)?.ip();
        self.dialog.local_seq += 1;
        let mut req =
            self.dialog
                .request(Method::Invite, self.dialog.local_seq, via, Some(&contact));
        self.decorate(ua, &mut req);
        req.headers.push(HeaderName::ContentType, "application/sdp");
        req.body = self.sdp.offer(local_ip, hold);
        self.add_credentials(ua, &mut req);
        let key = ua.send_request(now, req.clone(), target, Owner::Call(self.handle));
        self.reinvite = Some((key, req, hold));
        Ok(())
    }

    pub(super) fn on_reinvite_response(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        resp: Response,
    ) {
        if resp.status.is_provisional() {
            return;
        }
        let Some((_, req, hold)) = self.reinvite.take() else {
            return;
        };
        let code = resp.status.code();
        if resp.status.is_success() {
            let cseq = req.cseq().map(|c| c.seq).unwrap_or(self.dialog.local_seq);
            if let Some(c) = resp.contacts().ok().and_then(|c| c.into_iter().next()) {
                self.dialog.remote_target = c.uri;
            }
            self.send_ack(ua, now, cseq);
            match self.sdp.process_answer(&resp.body) {
                Ok(media) => self.emit_media(ua, media),
                Err(why) => tracing::warn!(%why, "unusable SDP answer to re-INVITE"),
            }
            if self.is_over() {
                return;
            }
            self.local_hold = hold;
            if hold {
                self.set_state(ua, CallState::Held);
            } else {
                self.emit(ua, CallState::Resumed, None, None, None);
                self.state = if self.remote_hold {
                    CallState::RemoteHold
                } else {
                    CallState::Connected
                };
            }
            return;
        }
        self.sdp.rollback_offer();
        match code {
            491 => {
                // Glare: retry after a random 2.1–4 s (RFC 3261 §14.1, we may not own the Call-ID).
                let ms = ua.rng.gen_range(2100..=4000);
                self.glare_retry = Some((now + Duration::from_millis(ms), hold));
            }
            401 | 407 if self.retry_reinvite_with_auth(ua, now, &resp, hold) => {}
            408 | 481 => {
                self.send_bye(ua, now);
                self.end(
                    ua,
                    now,
                    CallState::Ended,
                    Some(code),
                    Some(resp.reason.clone()),
                    Some(Party::Remote),
                );
            }
            _ => {
                tracing::info!(code, "re-INVITE refused; the call goes on as before");
            }
        }
    }

    fn retry_reinvite_with_auth(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        resp: &Response,
        hold: bool,
    ) -> bool {
        self.absorb_challenge(resp) && self.send_reinvite(ua, now, hold).is_ok()
    }

    pub(super) fn on_reinvite(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        req: Request,
        source: Target,
    ) {
        if self.reinvite.is_some() || self.pending_ack.is_some() {
            let r = Response::for_request(&req, StatusCode::new(491).expect("491 is valid"));
            return ua.respond(now, r);
        }
        if let Some(c) = req.contacts().ok().and_then(|c| c.into_iter().next()) {
            self.dialog.remote_target = c.uri;
        }
        let local_ip = match ua.local_addr(source.transport) {
            Ok(a) => a.ip(),
            Err(_) => return,
        };
        let (body, media) = if req.body.is_empty() {
            (self.sdp.offer(local_ip, self.local_hold), None)
        } else {
            match self.sdp.answer(local_ip, &req.body, self.local_hold) {
                Ok((b, m)) => (b, Some(m)),
                Err(why) => {
                    let mut r = Response::for_request(&req, StatusCode::NOT_ACCEPTABLE_HERE);
                    r.reason = format!("Not Acceptable Here ({why})");
                    add_to_tag(&mut r, &self.dialog.local_tag.0);
                    return ua.respond(now, r);
                }
            }
        };
        let mut ok = Response::for_request(&req, StatusCode::OK);
        add_to_tag(&mut ok, &self.dialog.local_tag.0);
        if let Ok(c) = ua.contact_uri(self.dialog.transport) {
            ok.headers.push(HeaderName::Contact, format!("<{c}>"));
        }
        ok.headers.push(HeaderName::ContentType, "application/sdp");
        ok.body = body;
        self.target = source;
        self.send_2xx(ua, now, ok);
        if let Some(media) = media {
            let remote_holds = media.remote_holds();
            self.emit_media(ua, media);
            if remote_holds && !self.remote_hold {
                self.remote_hold = true;
                self.set_state(ua, CallState::RemoteHold);
            } else if !remote_holds && self.remote_hold {
                self.remote_hold = false;
                self.emit(ua, CallState::Resumed, None, None, None);
                self.state = if self.local_hold {
                    CallState::Held
                } else {
                    CallState::Connected
                };
            }
        }
    }
}
