//! Registration (RFC 3261 §10) with digest auth, refresh before expiry, 423 handling, NAT
//! discovery from `received`/`rport` (RFC 3581), re-registration after a lost flow, and
//! un-REGISTER on shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::util::random_token;
use super::{Owner, UaError, UaEvent, UserAgent};
use crate::sip::auth::{select_challenge, ChallengeVerdict, DigestClient};
use crate::sip::message::*;
use crate::sip::transaction::TransactionKey;
use crate::sip::uri::{Host, Scheme, Uri};

/// A SIP account as the UA needs it. Names are resolved by the engine beforehand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: String,
    /// Authentication user name, if different from `user`.
    pub auth_user: Option<String>,
    pub password: String,
    /// The SIP domain: the AOR is `sip:user@domain` and REGISTER goes to `sip:domain`.
    pub domain: String,
    pub display_name: Option<String>,
    /// The resolved address of the registrar or outbound proxy: every out-of-dialog request
    /// goes there.
    pub server: Target,
    /// Sent as a Route (`;lr`) on out-of-dialog requests when set.
    pub outbound_proxy: Option<Uri>,
    /// Requested registration lifetime in seconds.
    pub expires: u32,
}

impl Account {
    /// `sip:user@domain`.
    pub fn aor(&self) -> Uri {
        let mut uri = Uri::new(Scheme::Sip, Some(&self.user), host_of(&self.domain), None);
        if let Some((h, p)) = self.domain.rsplit_once(':') {
            if let (Ok(p), false) = (p.parse::<u16>(), h.contains(':')) {
                uri.host = host_of(h);
                uri.port = Some(p);
            }
        }
        uri
    }
}

fn host_of(s: &str) -> Host {
    match s.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.into(),
        Err(_) => Host::Domain(s.to_ascii_lowercase()),
    }
}

/// Where the registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegState {
    Idle,
    Registering,
    Registered,
    /// The registrar refused (status in the event) or could not be reached.
    Failed,
    Unregistering,
    Unregistered,
}

impl RegState {
    pub fn as_str(self) -> &'static str {
        match self {
            RegState::Idle => "idle",
            RegState::Registering => "registering",
            RegState::Registered => "registered",
            RegState::Failed => "failed",
            RegState::Unregistering => "unregistering",
            RegState::Unregistered => "unregistered",
        }
    }
}

pub(super) struct Registration {
    account: Account,
    state: RegState,
    call_id: String,
    from_tag: String,
    cseq: u32,
    pending: Option<TransactionKey>,
    auth: Option<(HeaderName, DigestClient)>,
    /// Challenges answered since the last success; bounds the 401 loop.
    auth_rounds: u32,
    expires: u32,
    refresh_at: Option<Instant>,
    retry_at: Option<Instant>,
    failures: u32,
    /// Our address as the registrar sees it (Via received/rport), when it differs.
    public: Option<(Transport, SocketAddr)>,
    stopping: bool,
    keepalive_on: bool,
}

const MAX_AUTH_ROUNDS: u32 = 3;

impl Registration {
    pub(super) fn new(account: Account) -> Registration {
        let expires = account.expires;
        Registration {
            account,
            state: RegState::Idle,
            call_id: String::new(),
            from_tag: String::new(),
            cseq: 0,
            pending: None,
            auth: None,
            auth_rounds: 0,
            expires,
            refresh_at: None,
            retry_at: None,
            failures: 0,
            public: None,
            stopping: false,
            keepalive_on: false,
        }
    }

    pub(super) fn state(&self) -> RegState {
        self.state
    }

    pub(super) fn is_idle(&self) -> bool {
        self.pending.is_none()
            && matches!(
                self.state,
                RegState::Idle | RegState::Unregistered | RegState::Failed
            )
    }

    pub(super) fn public_contact(&self, transport: Transport) -> Option<SocketAddr> {
        self.public.filter(|(t, _)| *t == transport).map(|(_, a)| a)
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        match (self.refresh_at, self.retry_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(super) fn start(&mut self, ua: &mut UserAgent, now: Instant) -> Result<(), UaError> {
        if self.call_id.is_empty() {
            self.call_id = random_token(&mut ua.rng, 24);
            self.from_tag = random_token(&mut ua.rng, 10);
        }
        self.stopping = false;
        self.auth_rounds = 0;
        self.set_state(ua, RegState::Registering, None, None, None);
        self.send(ua, now, self.expires)
    }

    pub(super) fn stop(&mut self, ua: &mut UserAgent, now: Instant) {
        self.refresh_at = None;
        self.retry_at = None;
        self.keepalive(ua, false);
        let was_bound = matches!(self.state, RegState::Registered | RegState::Registering)
            || self.pending.is_some();
        if !was_bound {
            if self.state != RegState::Unregistered && self.state != RegState::Idle {
                self.set_state(ua, RegState::Unregistered, None, None, None);
            }
            return;
        }
        self.stopping = true;
        self.auth_rounds = 0;
        self.set_state(ua, RegState::Unregistering, None, None, None);
        if self.send(ua, now, 0).is_err() {
            self.set_state(ua, RegState::Unregistered, None, None, None);
        }
    }

    pub(super) fn flow_closed(&mut self, ua: &mut UserAgent, now: Instant, target: Target) {
        if target != self.account.server || self.stopping {
            return;
        }
        if matches!(self.state, RegState::Registered | RegState::Registering) {
            tracing::info!(%target, "registration flow lost; registering again");
            self.public = None;
            let _ = self.send(ua, now, self.expires);
        }
    }

    pub(super) fn handle_timeout(&mut self, ua: &mut UserAgent, now: Instant) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(self.refresh_at) || due(self.retry_at) {
            self.refresh_at = None;
            self.retry_at = None;
            self.auth_rounds = 0;
            if self.state == RegState::Failed {
                self.set_state(ua, RegState::Registering, None, None, None);
            }
            let _ = self.send(ua, now, self.expires);
        }
    }

    pub(super) fn on_response(
        &mut self,
        ua: &mut UserAgent,
        now: Instant,
        key: &TransactionKey,
        resp: Response,
    ) {
        if self.pending.as_ref() != Some(key) || resp.status.is_provisional() {
            return;
        }
        self.pending = None;
        let code = resp.status.code();
        let requested = if self.stopping { 0 } else { self.expires };
        match code {
            200..=299 => self.on_success(ua, now, &resp),
            401 | 407 => {
                let (challenge_name, creds_name) = if code == 401 {
                    (HeaderName::WwwAuthenticate, HeaderName::Authorization)
                } else {
                    (
                        HeaderName::ProxyAuthenticate,
                        HeaderName::ProxyAuthorization,
                    )
                };
                let challenge = match select_challenge(resp.headers.get_all(&challenge_name)) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "unusable authentication challenge");
                        return self.fail(ua, now, &resp, false);
                    }
                };
                let verdict = match &mut self.auth {
                    Some((_, client)) if client.realm() == challenge.realm => {
                        client.on_challenge(challenge)
                    }
                    _ => {
                        self.auth = Some((creds_name.clone(), DigestClient::new(challenge)));
                        ChallengeVerdict::Retry
                    }
                };
                if let Some((name, _)) = &mut self.auth {
                    *name = creds_name;
                }
                self.auth_rounds += 1;
                if verdict == ChallengeVerdict::CredentialsRejected
                    || self.auth_rounds > MAX_AUTH_ROUNDS
                {
                    return self.fail(ua, now, &resp, false);
                }
                let _ = self.send(ua, now, requested);
            }
            423 => {
                let min = resp
                    .headers
                    .get(&HeaderName::MinExpires)
                    .and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min) if min > self.expires && !self.stopping => {
                        self.expires = min;
                        let _ = self.send(ua, now, min);
                    }
                    _ => self.fail(ua, now, &resp, false),
                }
            }
            // Server trouble: try again later. Anything else is a definitive refusal.
            408 | 480 | 500 | 503 | 504 => self.fail(ua, now, &resp, true),
            _ => self.fail(ua, now, &resp, false),
        }
    }

    pub(super) fn on_failure(&mut self, ua: &mut UserAgent, now: Instant, key: &TransactionKey) {
        if self.pending.as_ref() != Some(key) {
            return;
        }
        self.pending = None;
        if self.stopping {
            self.stopping = false;
            return self.set_state(
                ua,
                RegState::Unregistered,
                Some(408),
                Some("no answer from the registrar".into()),
                None,
            );
        }
        self.failures += 1;
        let backoff = backoff(self.failures);
        self.retry_at = Some(now + backoff);
        self.keepalive(ua, false);
        let server = self.account.server;
        let (status, why) = match ua.last_transport_error.take() {
            Some((target, error)) if target == server => {
                (503, format!("cannot reach {server}: {error}"))
            }
            _ => (408, format!("no answer from the registrar {server}")),
        };
        self.set_state(
            ua,
            RegState::Failed,
            Some(status),
            Some(format!("{why}; retrying in {} s", backoff.as_secs())),
            None,
        );
    }

    fn on_success(&mut self, ua: &mut UserAgent, now: Instant, resp: &Response) {
        self.auth_rounds = 0;
        self.failures = 0;
        if self.stopping {
            self.stopping = false;
            return self.set_state(
                ua,
                RegState::Unregistered,
                Some(resp.status.code()),
                Some(resp.reason.clone()),
                Some(0),
            );
        }
        // NAT discovery: where the registrar saw us from (RFC 3581). Over UDP our Contact must
        // carry that address, or incoming requests would not reach us.
        let transport = self.account.server.transport;
        if let Ok(via) = resp.top_via() {
            let received = via.params.value("received").and_then(|r| r.parse().ok());
            let rport = via
                .params
                .value("rport")
                .and_then(|p| p.parse::<u16>().ok());
            if let (Some(ip), Some(port), false) = (received, rport, transport.is_reliable()) {
                let seen = SocketAddr::new(ip, port);
                let local = ua.local_addr(transport).ok();
                let current = self.public.map(|(_, a)| a).or(local);
                if current != Some(seen) {
                    tracing::info!(%seen, "registrar sees us at another address; updating Contact");
                    self.public = Some((transport, seen));
                    let _ = self.send(ua, now, self.expires);
                    return;
                }
            }
        }
        let granted = self.granted_expires(ua, resp).unwrap_or(self.expires);
        if granted == 0 {
            return self.fail(ua, now, resp, false);
        }
        self.refresh_at = Some(now + refresh_after(granted));
        self.keepalive(ua, true);
        self.set_state(
            ua,
            RegState::Registered,
            Some(resp.status.code()),
            Some(resp.reason.clone()),
            Some(granted),
        );
    }

    /// The lifetime the registrar gave our binding: our Contact's `expires` parameter, else the
    /// Expires header.
    fn granted_expires(&self, ua: &UserAgent, resp: &Response) -> Option<u32> {
        let ours = self.contact_uri(ua).ok();
        let contacts = resp.contacts().unwrap_or_default();
        let mine = contacts.iter().find(|c| {
            ours.as_ref().is_some_and(|o| {
                c.uri.host == o.host && c.uri.port.unwrap_or(5060) == o.port.unwrap_or(5060)
            })
        });
        mine.and_then(|c| c.params.value("expires")?.parse().ok())
            .or_else(|| resp.expires())
    }

    fn fail(&mut self, ua: &mut UserAgent, now: Instant, resp: &Response, retry: bool) {
        self.refresh_at = None;
        self.keepalive(ua, false);
        if self.stopping {
            self.stopping = false;
            return self.set_state(
                ua,
                RegState::Unregistered,
                Some(resp.status.code()),
                Some(resp.reason.clone()),
                None,
            );
        }
        if retry {
            self.failures += 1;
            let after = resp
                .headers
                .get(&HeaderName::Other("Retry-After".into()))
                .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
                .map(Duration::from_secs)
                .unwrap_or_else(|| backoff(self.failures))
                .min(Duration::from_secs(3600));
            self.retry_at = Some(now + after);
        }
        self.set_state(
            ua,
            RegState::Failed,
            Some(resp.status.code()),
            Some(resp.reason.clone()),
            None,
        );
    }

    fn send(&mut self, ua: &mut UserAgent, now: Instant, expires: u32) -> Result<(), UaError> {
        let transport = self.account.server.transport;
        let aor = self.account.aor();
        let mut request_uri = aor.clone();
        request_uri.user = None;
        let contact = self.contact_uri(ua)?;
        let via = ua.new_via(transport)?;
        self.cseq += 1;
        let mut req = Request::new(Method::Register, request_uri.clone());
        let h = &mut req.headers;
        h.push(HeaderName::Via, via);
        h.push(HeaderName::MaxForwards, "70");
        let mut from = NameAddr::new(aor.clone());
        from.display = self.account.display_name.clone();
        from.params.set("tag", Some(self.from_tag.clone()));
        h.push(HeaderName::From, from.to_string());
        h.push(HeaderName::To, NameAddr::new(aor).to_string());
        h.push(HeaderName::CallId, self.call_id.clone());
        h.push(HeaderName::CSeq, format!("{} REGISTER", self.cseq));
        if let Some(proxy) = &self.account.outbound_proxy {
            let mut route = proxy.clone();
            route.params.set("lr", None);
            h.push(HeaderName::Route, format!("<{route}>"));
        }
        h.push(HeaderName::Contact, format!("<{contact}>"));
        h.push(HeaderName::Expires, expires.to_string());
        h.push(HeaderName::Allow, super::ALLOW);
        h.push(HeaderName::UserAgent, ua.config.user_agent.clone());
        if let Some((name, client)) = &mut self.auth {
            let user = self
                .account
                .auth_user
                .as_deref()
                .unwrap_or(&self.account.user);
            let value = client.authorization(
                "REGISTER",
                &request_uri.to_string(),
                user,
                &self.account.password,
                b"",
                &mut ua.rng,
            );
            req.headers.push(name.clone(), value);
        }
        let key = ua.send_request(now, req, self.account.server, Owner::Registration);
        self.pending = Some(key);
        Ok(())
    }

    /// Our Contact, with the public address once the registrar told us about it. The UA's
    /// `contact_uri` cannot apply it here: the registration is taken out of the UA while it runs.
    fn contact_uri(&self, ua: &UserAgent) -> Result<Uri, UaError> {
        let transport = self.account.server.transport;
        let mut uri = ua.contact_uri(transport)?;
        if let Some(public) = self.public_contact(transport) {
            uri.host = public.ip().into();
            uri.port = Some(public.port());
        }
        Ok(uri)
    }

    fn keepalive(&mut self, ua: &mut UserAgent, on: bool) {
        if ua.config.keepalive.is_none() || self.keepalive_on == on {
            return;
        }
        self.keepalive_on = on;
        ua.emit(UaEvent::KeepAlive {
            target: self.account.server,
            on,
        });
    }

    fn set_state(
        &mut self,
        ua: &mut UserAgent,
        state: RegState,
        status: Option<u16>,
        reason: Option<String>,
        expires: Option<u32>,
    ) {
        self.state = state;
        ua.emit(UaEvent::Registration {
            state,
            status,
            reason,
            expires,
        });
    }
}

/// Refresh well before expiry: a minute early for long registrations, halfway for short ones.
fn refresh_after(expires: u32) -> Duration {
    let secs = if expires >= 120 {
        expires - 60
    } else {
        (expires / 2).max(1)
    };
    Duration::from_secs(secs.into())
}

fn backoff(failures: u32) -> Duration {
    Duration::from_secs((30u64 << failures.min(5).saturating_sub(1)).min(600))
}
