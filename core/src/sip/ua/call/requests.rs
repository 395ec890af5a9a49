//! The requests a call sends inside its dialog (ACK, CANCEL, BYE) and the digest credentials
//! its INVITEs carry after a 401/407 (RFC 3261 §22).

use super::*;

impl Call {
    /// Resends the INVITE with credentials. False if the challenge cannot be answered (wrong
    /// password, bad challenge): the caller then fails the call with the response.
    pub(super) fn retry_with_auth(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        resp: &Response,
    ) -> bool {
        ua.config.account.is_some()
            && self.absorb_challenge(resp)
            && self.send_initial_invite(ua, now).is_ok()
    }

    /// Takes a 401/407's challenge into the call's digest state. False when it must not be
    /// answered: unusable, our credentials were just refused, or too many rounds.
    pub(super) fn absorb_challenge(&mut self, resp: &Response) -> bool {
        let (challenge_name, creds_name) = if resp.status.code() == 401 {
            (HeaderName::WwwAuthenticate, HeaderName::Authorization)
        } else {
            (
                HeaderName::ProxyAuthenticate,
                HeaderName::ProxyAuthorization,
            )
        };
        let Ok(challenge) = select_challenge(resp.headers.get_all(&challenge_name)) else {
            return false;
        };
        let verdict = match &mut self.auth {
            Some((_, c)) if c.realm() == challenge.realm => c.on_challenge(challenge),
            _ => {
                self.auth = Some((creds_name.clone(), DigestClient::new(challenge)));
                ChallengeVerdict::Retry
            }
        };
        self.auth_rounds += 1;
        if verdict == ChallengeVerdict::CredentialsRejected || self.auth_rounds > MAX_AUTH_ROUNDS {
            return false;
        }
        if let Some((name, _)) = &mut self.auth {
            *name = creds_name;
        }
        true
    }

    pub(super) fn add_credentials(&mut self, ua: &mut UserAgent, req: &mut Request) {
        let Some(account) = &ua.config.account else {
            return;
        };
        if let Some((name, client)) = &mut self.auth {
            let user = account.auth_user.as_deref().unwrap_or(&account.user);
            let value = client.authorization(
                req.method.as_str(),
                &req.uri.to_string(),
                user,
                &account.password,
                &req.body,
                &mut ua.rng,
            );
            req.headers.push(name.clone(), value);
        }
    }

    pub(super) fn send_ack(&mut self, ua: &mut UserAgent, _now: Instant, cseq: u32) {
        let Ok(target) = ua.dialog_target(self.dialog.next_hop(), self.dialog.transport) else {
            return;
        };
        let Ok(via) = ua.new_via(target.transport) else {
            return;
        };
        let mut ack = self.dialog.request(Method::Ack, cseq, via, None);
        ack.headers
            .push(HeaderName::UserAgent, ua.config.user_agent.clone());
        let bytes = ack.to_bytes();
        ua.transmit(target, bytes.clone());
        self.last_ack = Some((target, bytes));
    }

    pub(super) fn send_cancel(&mut self, ua: &mut UserAgent, now: Instant) {
        if let Some(key) = self.invite_key.clone() {
            match ua.tx.cancel(now, &key) {
                Ok(cancel_key) => {
                    ua.owners.insert(cancel_key, Owner::Stray);
                    ua.pump(now);
                }
                Err(e) => tracing::debug!(error = %e, "CANCEL not sent"),
            }
        }
    }

    pub(super) fn send_bye(&mut self, ua: &mut UserAgent, now: Instant) {
        if !self.confirmed {
            return;
        }
        let Ok(target) = ua.dialog_target(self.dialog.next_hop(), self.dialog.transport) else {
            return;
        };
        let Ok(via) = ua.new_via(target.transport) else {
            return;
        };
        self.dialog.local_seq += 1;
        let mut bye = self
            .dialog
            .request(Method::Bye, self.dialog.local_seq, via, None);
        self.decorate(ua, &mut bye);
        self.add_credentials(ua, &mut bye);
        ua.send_request(now, bye, target, Owner::Stray);
    }
}
