//! A simulated registrar and stateless proxy, sans-IO, for the user-agent tests. It behaves like
//! the Kamailio config in tests/interop/kamailio.cfg on the paths the UA uses: 401/407 digest
//! challenges (wrong password -> 403), bindings with expiry, 423 below Min-Expires, OPTIONS,
//! INVITE proxying with Record-Route, and loose routing of in-dialog requests.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sipher::sip::auth::{verify, Algorithm, AuthError, Challenge};
use sipher::sip::{
    parse_message, HeaderAccess, HeaderName, Method, NameAddr, Request, Response, SipMessage,
    StatusCode, Target, Transport, Uri, Via,
};

/// Tag on the registrar's own responses; ACKs carrying it are absorbed.
const LOCAL_TAG: &str = "simreg";

/// A binding of an address-of-record user to a contact.
#[derive(Debug, Clone)]
pub struct Binding {
    pub contact: Uri,
    pub until: Instant,
}

pub struct Registrar {
    pub addr: SocketAddr,
    pub realm: String,
    pub algorithm: Algorithm,
    /// user -> password
    pub users: HashMap<String, String>,
    pub bindings: HashMap<String, Binding>,
    /// When set, REGISTERs asking for less get 423 with this Min-Expires.
    pub min_expires: Option<u32>,
    /// Caps the lifetime granted.
    pub max_expires: u32,
    /// Challenge INVITEs with 407 (on by default).
    pub challenge_invites: bool,
    /// Nonces we issued that are still valid.
    nonces: HashMap<String, Challenge>,
    /// Nonces we retired: credentials using them get `stale=true`.
    stale: Vec<String>,
    next_nonce: u64,
    /// Every request received, in order.
    pub received: Vec<Request>,
    out: VecDeque<(Target, Vec<u8>)>,
}

impl Registrar {
    pub fn new(addr: SocketAddr, realm: &str) -> Registrar {
        Registrar {
            addr,
            realm: realm.to_string(),
            algorithm: Algorithm::Md5,
            users: HashMap::new(),
            bindings: HashMap::new(),
            min_expires: None,
            max_expires: 3600,
            challenge_invites: true,
            nonces: HashMap::new(),
            stale: Vec::new(),
            next_nonce: 1,
            received: Vec::new(),
            out: VecDeque::new(),
        }
    }

    pub fn add_user(&mut self, user: &str, password: &str) {
        self.users.insert(user.to_string(), password.to_string());
    }

    /// Retires every nonce issued so far: the next credentials using one get `stale=true`.
    pub fn expire_nonces(&mut self) {
        self.stale.extend(self.nonces.drain().map(|(n, _)| n));
    }

    /// The live binding of `user`, if any.
    pub fn binding(&self, user: &str, now: Instant) -> Option<&Binding> {
        self.bindings.get(user).filter(|b| b.until > now)
    }

    /// REGISTER requests received (with their Expires header values).
    pub fn registers(&self) -> Vec<&Request> {
        self.received
            .iter()
            .filter(|r| r.method == Method::Register)
            .collect()
    }

    pub fn poll_transmit(&mut self) -> Option<(Target, Vec<u8>)> {
        self.out.pop_front()
    }

    pub fn handle_datagram(&mut self, now: Instant, source: Target, data: &[u8]) {
        match parse_message(data) {
            Ok(SipMessage::Request(req)) => {
                self.received.push(req.clone());
                self.on_request(now, source, req);
            }
            Ok(SipMessage::Response(resp)) => self.forward_response(resp),
            Err(_) => {}
        }
    }

    fn on_request(&mut self, now: Instant, source: Target, mut req: Request) {
        stamp_received(&mut req, source);
        let routed_to_us = req
            .headers
            .get(&HeaderName::Route)
            .and_then(|r| NameAddr::parse(r).ok())
            .is_some_and(|na| self.is_us(&na.uri));
        if routed_to_us {
            req.headers.remove_first(&HeaderName::Route);
            return self.forward_request(req, false);
        }
        match req.method {
            Method::Register => self.on_register(now, req),
            Method::Options => self.reply(&req, 200, None),
            Method::Ack => {
                // Ours (for a 401/407/404) ends here; the ACK of a callee's non-2xx goes on.
                let ours = req
                    .to_header()
                    .ok()
                    .and_then(|t| t.tag())
                    .is_some_and(|t| t.0 == LOCAL_TAG);
                if !ours {
                    self.forward_to_binding(now, req, false);
                }
            }
            Method::Invite => self.on_invite(now, req),
            Method::Cancel => self.forward_to_binding(now, req, false),
            _ => self.forward_to_binding(now, req, false),
        }
    }

    fn on_register(&mut self, now: Instant, req: Request) {
        let user = match req.to_header() {
            Ok(to) => to.uri.user.unwrap_or_default(),
            Err(_) => return self.reply(&req, 400, None),
        };
        let Some(password) = self.users.get(&user).cloned() else {
            return self.reply(&req, 404, None);
        };
        match self.check_auth(&req, &HeaderName::Authorization, &password) {
            AuthOutcome::Challenge(stale) => {
                let challenge = self.new_challenge(stale);
                return self.reply(&req, 401, Some((HeaderName::WwwAuthenticate, challenge)));
            }
            AuthOutcome::Forbidden => return self.reply(&req, 403, None),
            AuthOutcome::Ok => {}
        }
        let contact = req.contacts().ok().and_then(|c| c.into_iter().next());
        let expires = contact
            .as_ref()
            .and_then(|c| c.params.value("expires")?.parse::<u32>().ok())
            .or_else(|| req.expires())
            .unwrap_or(3600);
        if expires == 0 {
            self.bindings.remove(&user);
            return self.reply(&req, 200, None);
        }
        if let Some(min) = self.min_expires.filter(|m| expires < *m) {
            let mut resp = self.local_response(&req, 423);
            resp.headers.push(HeaderName::MinExpires, min.to_string());
            return self.send_back(resp);
        }
        let Some(contact) = contact else {
            return self.reply(&req, 400, None);
        };
        let granted = expires.min(self.max_expires);
        self.bindings.insert(
            user,
            Binding {
                contact: contact.uri.clone(),
                until: now + Duration::from_secs(granted.into()),
            },
        );
        let mut resp = self.local_response(&req, 200);
        resp.headers.push(
            HeaderName::Contact,
            format!("<{}>;expires={granted}", contact.uri),
        );
        self.send_back(resp);
    }

    fn on_invite(&mut self, now: Instant, req: Request) {
        if self.challenge_invites {
            let user = req
                .from_header()
                .ok()
                .and_then(|f| f.uri.user)
                .unwrap_or_default();
            let Some(password) = self.users.get(&user).cloned() else {
                return self.reply(&req, 403, None);
            };
            match self.check_auth(&req, &HeaderName::ProxyAuthorization, &password) {
                AuthOutcome::Challenge(stale) => {
                    let c = self.new_challenge(stale);
                    return self.reply(&req, 407, Some((HeaderName::ProxyAuthenticate, c)));
                }
                AuthOutcome::Forbidden => return self.reply(&req, 403, None),
                AuthOutcome::Ok => {}
            }
        }
        self.forward_to_binding(now, req, true);
    }

    /// Sends an out-of-dialog request to the binding of its Request-URI user (404 if none).
    fn forward_to_binding(&mut self, now: Instant, mut req: Request, record_route: bool) {
        let user = req.uri.user.clone().unwrap_or_default();
        let Some(contact) = self.binding(&user, now).map(|b| b.contact.clone()) else {
            if req.method != Method::Ack {
                self.reply(&req, 404, None);
            }
            return;
        };
        req.uri = contact;
        req.headers.remove(&HeaderName::ProxyAuthorization);
        self.forward_request(req, record_route);
    }

    /// Stateless forwarding to the Request-URI's address with our own Via on top.
    fn forward_request(&mut self, mut req: Request, record_route: bool) {
        let Some(ip) = req.uri.host.ip() else { return };
        let transport = req.uri.transport_param().unwrap_or(Transport::Udp);
        let port = req.uri.port.unwrap_or(transport.default_port());
        let Ok(top) = req.top_via() else { return };
        // Same branch for retransmissions and for the CANCEL of an INVITE (stateless proxy).
        let branch = format!(
            "z9hG4bKsim{}",
            top.branch().map(|b| b.0).unwrap_or_default()
        );
        req.headers.push_front(
            HeaderName::Via,
            format!("SIP/2.0/{transport} {};branch={branch}", self.addr),
        );
        if record_route {
            req.headers
                .push_front(HeaderName::RecordRoute, format!("<sip:{};lr>", self.addr));
        }
        let hops = req
            .headers
            .get(&HeaderName::MaxForwards)
            .and_then(|m| m.trim().parse::<u32>().ok())
            .unwrap_or(70);
        if hops == 0 {
            return self.reply(&req, 483, None);
        }
        req.headers
            .set(HeaderName::MaxForwards, (hops - 1).to_string());
        let target = Target {
            transport,
            addr: SocketAddr::new(ip, port),
        };
        self.out.push_back((target, req.to_bytes()));
    }

    fn forward_response(&mut self, mut resp: Response) {
        let Ok(top) = resp.top_via() else { return };
        if top.host != self.addr.ip().to_string() || top.port != Some(self.addr.port()) {
            return;
        }
        resp.headers.remove_first(&HeaderName::Via);
        self.send_back(resp);
    }

    /// Sends a response to where its top Via says (received/rport first).
    fn send_back(&mut self, resp: Response) {
        let Ok(via) = resp.top_via() else { return };
        let Some(addr) = via_address(&via) else {
            return;
        };
        let target = Target {
            transport: via.transport,
            addr,
        };
        self.out.push_back((target, resp.to_bytes()));
    }

    fn reply(&mut self, req: &Request, code: u16, header: Option<(HeaderName, String)>) {
        let mut resp = self.local_response(req, code);
        if let Some((name, value)) = header {
            resp.headers.push(name, value);
        }
        self.send_back(resp);
    }

    fn local_response(&self, req: &Request, code: u16) -> Response {
        let status = StatusCode::new(code).expect("the registrar uses valid codes");
        let mut resp = Response::for_request(req, status);
        if let Some(to) = resp.headers.get(&HeaderName::To) {
            if !to.contains(";tag=") {
                let tagged = format!("{to};tag={LOCAL_TAG}");
                resp.headers.set(HeaderName::To, tagged);
            }
        }
        resp.headers.push(HeaderName::Server, "sim-registrar");
        resp
    }

    fn new_challenge(&mut self, stale: bool) -> String {
        let nonce = format!("n{:08x}", self.next_nonce);
        self.next_nonce += 1;
        let mut c = Challenge::new(self.realm.clone(), nonce.clone(), self.algorithm);
        self.nonces.insert(nonce, c.clone());
        c.stale = stale;
        c.to_string()
    }

    fn check_auth(&self, req: &Request, name: &HeaderName, password: &str) -> AuthOutcome {
        let Some(creds) = req.headers.get(name) else {
            return AuthOutcome::Challenge(false);
        };
        let nonce = sipher::sip::auth::Credentials::parse(creds)
            .map(|c| c.nonce)
            .unwrap_or_default();
        let Some(challenge) = self.nonces.get(&nonce) else {
            return AuthOutcome::Challenge(self.stale.contains(&nonce));
        };
        match verify(creds, req.method.as_str(), password, challenge, &req.body) {
            Ok(()) => AuthOutcome::Ok,
            Err(AuthError::StaleNonce) => AuthOutcome::Challenge(true),
            Err(_) => AuthOutcome::Forbidden,
        }
    }

    fn is_us(&self, uri: &Uri) -> bool {
        uri.host.ip() == Some(self.addr.ip()) && uri.port.unwrap_or(5060) == self.addr.port()
    }
}

enum AuthOutcome {
    Ok,
    /// Challenge again; `true` marks the nonce stale.
    Challenge(bool),
    Forbidden,
}

/// Adds `received` and fills `rport` on the top Via (RFC 3581) so responses find the sender.
fn stamp_received(req: &mut Request, source: Target) {
    let Ok(mut via) = req.top_via() else { return };
    via.params
        .set("received", Some(source.addr.ip().to_string()));
    if via.params.contains("rport") {
        via.params
            .set("rport", Some(source.addr.port().to_string()));
    }
    req.headers.remove_first(&HeaderName::Via);
    req.headers.push_front(HeaderName::Via, via.to_string());
}

fn via_address(via: &Via) -> Option<SocketAddr> {
    let ip = via
        .params
        .value("received")
        .and_then(|r| r.parse().ok())
        .or_else(|| via.host.trim_matches(['[', ']']).parse().ok())?;
    let port = via
        .params
        .value("rport")
        .and_then(|p| p.parse().ok())
        .or(via.port)
        .unwrap_or(via.transport.default_port());
    Some(SocketAddr::new(ip, port))
}
