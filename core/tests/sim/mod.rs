//! The user-agent simulation: phones (real `UserAgent`s) and a simulated registrar/proxy joined
//! by a seeded network emulator, all in virtual time. The driver jumps from event to event
//! (a datagram arrival or the earliest `poll_timeout`) and never sleeps; a cap on iterations
//! turns a livelock into a clear test failure.

#![allow(dead_code, unused_imports)] // each test file uses a different subset

pub mod net;
pub mod registrar;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sipher::sdp::{Codec, MediaConfig, PayloadType};
use sipher::sip::ua::{
    Account, CallHandle, CallState, Party, RegState, UaConfig, UaEvent, UaOutput, UserAgent,
};
use sipher::sip::{Target, Transport, Uri};

pub use self::net::{udp, LinkConfig, Net, Sent};
pub use self::registrar::Registrar;

/// The registrar's address and SIP domain in the standard scenario.
pub const REGISTRAR: &str = "192.0.2.1:5060";
pub const DOMAIN: &str = "192.0.2.1";
pub const ALICE: &str = "198.51.100.10:5060";
pub const BOB: &str = "198.51.100.20:5060";
pub const PASSWORD_ALICE: &str = "alice-secret";
pub const PASSWORD_BOB: &str = "bob-secret";
/// Bound on driver steps in one `run_until`; far above any legitimate scenario.
pub const MAX_STEPS: u64 = 200_000;

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("simulation addresses are valid")
}

pub fn uri(s: &str) -> Uri {
    Uri::parse(s).expect("test URIs are valid")
}

/// One `UserAgent` with what it told its user.
pub struct Phone {
    pub name: String,
    /// Where the network delivers to this phone (its public address).
    pub addr: SocketAddr,
    pub ua: UserAgent,
    pub events: Vec<(Instant, UaEvent)>,
}

impl Phone {
    /// A phone whose UA believes it listens at `local` while the network knows it as `addr`
    /// (they differ behind a NAT).
    pub fn new(
        name: &str,
        addr: SocketAddr,
        local: SocketAddr,
        config: UaConfig,
        seed: u64,
    ) -> Phone {
        let mut ua = UserAgent::new(
            config,
            &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed),
        );
        ua.set_local_addr(Transport::Udp, local);
        Phone {
            name: name.to_string(),
            addr,
            ua,
            events: Vec::new(),
        }
    }

    pub fn registration_events(&self) -> Vec<(RegState, Option<u16>, Option<u32>)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                UaEvent::Registration {
                    state,
                    status,
                    expires,
                    ..
                } => Some((*state, *status, *expires)),
                _ => None,
            })
            .collect()
    }

    pub fn last_registration(&self) -> Option<(RegState, Option<u16>, Option<u32>)> {
        self.registration_events().last().copied()
    }

    /// Every call event of `call`: (state, status, reason, by).
    pub fn call_events(&self, call: CallHandle) -> Vec<CallEvent> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                UaEvent::Call {
                    call: c,
                    state,
                    status,
                    reason,
                    by,
                    ..
                } if *c == call => Some(CallEvent {
                    state: *state,
                    status: *status,
                    reason: reason.clone(),
                    by: *by,
                }),
                _ => None,
            })
            .collect()
    }

    pub fn call_states(&self, call: CallHandle) -> Vec<CallState> {
        self.call_events(call).iter().map(|e| e.state).collect()
    }

    pub fn last_call_state(&self, call: CallHandle) -> Option<CallState> {
        self.call_states(call).last().copied()
    }

    pub fn last_call_event(&self, call: CallHandle) -> Option<CallEvent> {
        self.call_events(call).pop()
    }

    /// The first incoming call, if one arrived.
    pub fn incoming_call(&self) -> Option<CallHandle> {
        self.incoming_calls().first().copied()
    }

    pub fn incoming_calls(&self) -> Vec<CallHandle> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                UaEvent::Call {
                    call,
                    state: CallState::Incoming,
                    ..
                } => Some(*call),
                _ => None,
            })
            .collect()
    }

    /// The media events of `call`, in order.
    pub fn media(&self, call: CallHandle) -> Vec<sipher::sdp::Negotiated> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                UaEvent::Media { call: c, media, .. } if *c == call => Some((**media).clone()),
                _ => None,
            })
            .collect()
    }

    pub fn malformed_count(&self) -> usize {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, UaEvent::Malformed { .. }))
            .count()
    }
}

/// A call event as tests compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    pub state: CallState,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub by: Option<Party>,
}

/// Phones, a registrar and the network, in virtual time.
pub struct World {
    pub start: Instant,
    pub now: Instant,
    pub net: Net,
    pub phones: Vec<Phone>,
    pub registrar: Option<Registrar>,
    /// Driver steps taken so far (over all runs).
    pub steps: u64,
}

impl World {
    pub fn new(seed: u64) -> World {
        // Only the origin of virtual time: `Instant` has no other constructor, and nothing
        // here ever reads the clock again.
        #[allow(clippy::disallowed_methods)]
        let start = Instant::now();
        World {
            start,
            now: start,
            net: Net::new(seed),
            phones: Vec::new(),
            registrar: None,
            steps: 0,
        }
    }

    /// Alice (phone 0) and Bob (phone 1) with accounts on a registrar at [`REGISTRAR`].
    pub fn with_registrar(seed: u64) -> World {
        let mut w = World::new(seed);
        let mut reg = Registrar::new(addr(REGISTRAR), "sim.test");
        reg.add_user("alice", PASSWORD_ALICE);
        reg.add_user("bob", PASSWORD_BOB);
        w.registrar = Some(reg);
        let a = account_config("alice", PASSWORD_ALICE, ALICE);
        let b = account_config("bob", PASSWORD_BOB, BOB);
        w.add_phone(Phone::new(
            "alice",
            addr(ALICE),
            addr(ALICE),
            a,
            seed ^ 0xa11ce,
        ));
        w.add_phone(Phone::new("bob", addr(BOB), addr(BOB), b, seed ^ 0xb0b));
        w
    }

    /// Alice and Bob without accounts (peer to peer).
    pub fn peer_to_peer(seed: u64) -> World {
        let mut w = World::new(seed);
        let mut a = UaConfig {
            local_user: "alice".into(),
            ..UaConfig::default()
        };
        a.media = media_config(addr(ALICE), default_codecs());
        let mut b = UaConfig {
            local_user: "bob".into(),
            ..UaConfig::default()
        };
        b.media = media_config(addr(BOB), default_codecs());
        w.add_phone(Phone::new(
            "alice",
            addr(ALICE),
            addr(ALICE),
            a,
            seed ^ 0xa11ce,
        ));
        w.add_phone(Phone::new("bob", addr(BOB), addr(BOB), b, seed ^ 0xb0b));
        w
    }

    pub fn add_phone(&mut self, phone: Phone) -> usize {
        self.phones.push(phone);
        self.phones.len() - 1
    }

    pub fn phone(&self, i: usize) -> &Phone {
        &self.phones[i]
    }

    pub fn ua(&mut self, i: usize) -> &mut UserAgent {
        &mut self.phones[i].ua
    }

    pub fn registrar(&mut self) -> &mut Registrar {
        self.registrar.as_mut().expect("this world has a registrar")
    }

    pub fn reg(&self) -> &Registrar {
        self.registrar.as_ref().expect("this world has a registrar")
    }

    /// Whether the registrar holds a live binding for `user`.
    pub fn is_bound(&self, user: &str) -> bool {
        self.reg().binding(user, self.now).is_some()
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Registers phone `i` and runs until it is registered (or fails); true on success.
    pub fn register(&mut self, i: usize) -> bool {
        let now = self.now;
        self.ua(i).register(now).expect("the phone has an account");
        self.run_until(
            |w| {
                matches!(
                    w.phones[i].last_registration(),
                    Some((RegState::Registered | RegState::Failed, _, _))
                )
            },
            Duration::from_secs(120),
        );
        self.phones[i].ua.registration_state() == Some(RegState::Registered)
    }

    /// Phone `i` calls `to` through its account (or directly for a peer-to-peer URI).
    pub fn call(&mut self, i: usize, to: &str) -> CallHandle {
        let now = self.now;
        self.ua(i)
            .call(now, uri(to), None)
            .expect("the call can be placed")
    }

    /// Runs until `cond` holds (true) or `max` of virtual time passed (false). Panics on a
    /// livelock: more than [`MAX_STEPS`] steps.
    pub fn run_until(&mut self, cond: impl Fn(&World) -> bool, max: Duration) -> bool {
        let deadline = self.now + max;
        let mut steps = 0u64;
        loop {
            self.drain();
            if cond(self) {
                return true;
            }
            if self.now >= deadline {
                return false;
            }
            steps += 1;
            self.steps += 1;
            assert!(
                steps <= MAX_STEPS,
                "livelock: {MAX_STEPS} steps without reaching the condition, at {:?} virtual; \
                 last datagrams: {:#?}",
                self.elapsed(),
                self.net
                    .log
                    .iter()
                    .rev()
                    .take(4)
                    .map(|s| s.start_line())
                    .collect::<Vec<_>>()
            );
            self.step(deadline);
        }
    }

    /// Lets `d` of virtual time pass.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(|_| false, d);
    }

    /// Injects raw bytes as if `from` had sent them to phone `i` over UDP.
    pub fn inject(&mut self, from: SocketAddr, i: usize, data: &[u8]) {
        let to = udp(self.phones[i].addr);
        self.net.send(self.now, from, to, data.to_vec());
    }

    /// Moves every pending output of phones and registrar into the network.
    pub fn drain(&mut self) {
        let now = self.now;
        for p in &mut self.phones {
            let mut guard = 0;
            while let Some(out) = p.ua.poll_output() {
                guard += 1;
                assert!(guard < 100_000, "{} produced unbounded output", p.name);
                match out {
                    UaOutput::Transmit { target, data } => self.net.send(now, p.addr, target, data),
                    UaOutput::Event(e) => p.events.push((now, e)),
                }
            }
        }
        if let Some(r) = &mut self.registrar {
            while let Some((target, data)) = r.poll_transmit() {
                self.net.send(now, r.addr, target, data);
            }
        }
    }

    /// Advances to the next event (not past `deadline`) and handles everything due then.
    fn step(&mut self, deadline: Instant) {
        let mut next = self.net.next_delivery();
        for p in &self.phones {
            if let Some(t) = p.ua.poll_timeout() {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        let next = next.unwrap_or(deadline).min(deadline).max(self.now);
        self.now = next;
        while let Some(d) = self.net.pop_due(self.now) {
            let source = Target {
                transport: d.to.transport,
                addr: d.from,
            };
            if let Some(p) = self.phones.iter_mut().find(|p| p.addr == d.to.addr) {
                p.ua.handle_datagram(self.now, source, &d.data);
            } else if let Some(r) = self.registrar.as_mut().filter(|r| r.addr == d.to.addr) {
                r.handle_datagram(self.now, source, &d.data);
            }
            self.drain();
        }
        for p in &mut self.phones {
            if p.ua.poll_timeout().is_some_and(|t| t <= self.now) {
                p.ua.handle_timeout(self.now);
            }
        }
    }
}

/// A UA config with an account on the standard registrar; RTP on the phone's IP.
pub fn account_config(user: &str, password: &str, phone: &str) -> UaConfig {
    let account = Account {
        user: user.to_string(),
        auth_user: None,
        password: password.to_string(),
        domain: DOMAIN.to_string(),
        display_name: None,
        server: udp(addr(REGISTRAR)),
        outbound_proxy: None,
        expires: 600,
    };
    UaConfig {
        account: Some(account),
        media: media_config(addr(phone), default_codecs()),
        ..UaConfig::default()
    }
}

/// Media on `phone`'s IP, port 40000 + the last octet (so each phone's RTP port differs).
pub fn media_config(phone: SocketAddr, codecs: Vec<Codec>) -> MediaConfig {
    let octet = match phone.ip() {
        std::net::IpAddr::V4(v4) => v4.octets()[3],
        std::net::IpAddr::V6(_) => 0,
    };
    MediaConfig::new(
        SocketAddr::new(phone.ip(), 40000 + u16::from(octet) * 2),
        codecs,
    )
}

pub fn default_codecs() -> Vec<Codec> {
    let opus = PayloadType::new(96).map(Codec::opus);
    opus.into_iter()
        .chain([Codec::pcmu(), Codec::pcma()])
        .collect()
}
