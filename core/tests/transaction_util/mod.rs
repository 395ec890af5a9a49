//! Shared helpers for the transaction tests: message builders, a single-layer harness in
//! virtual time, and two layers joined by a seeded lossy link.

#![allow(dead_code)] // each test file uses a different subset

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipher::sip::transaction::{
    TimerConfig, TransactionEvent, TransactionKey, TransactionLayer, TransactionOutput,
};
use sipher::sip::{
    parse_message, HeaderName, Method, Request, Response, SipMessage, StatusCode, Target, Transport,
};

pub const ALICE: &str = "127.0.0.1:5060";
pub const BOB: &str = "127.0.0.1:5070";

pub fn target(transport: Transport, addr: &str) -> Target {
    Target {
        transport,
        addr: addr
            .parse::<SocketAddr>()
            .expect("test addresses are valid"),
    }
}

pub fn udp(addr: &str) -> Target {
    target(Transport::Udp, addr)
}

pub fn tcp(addr: &str) -> Target {
    target(Transport::Tcp, addr)
}

/// A request as Alice's UA would build it, parsed from text so the layer sees what the wire
/// gives it.
pub fn request(method: &str, branch: &str, seq: u32, transport: Transport) -> Request {
    let text = format!(
        "{method} sip:bob@127.0.0.1:5070 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         Route: <sip:proxy.example.com;lr>\r\n\
         From: \"Alice\" <sip:alice@127.0.0.1>;tag=a1\r\n\
         To: <sip:bob@127.0.0.1>\r\n\
         Call-ID: call-{branch}@127.0.0.1\r\n\
         CSeq: {seq} {method}\r\n\
         Contact: <sip:alice@127.0.0.1:5060>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    match parse_message(text.as_bytes()) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("test request does not parse: {other:?}"),
    }
}

pub fn invite(branch: &str) -> Request {
    request("INVITE", branch, 1, Transport::Udp)
}

/// A response to `req` with a To tag (except for 100).
pub fn response(req: &Request, code: u16) -> Response {
    let status = StatusCode::new(code).expect("valid test status");
    let mut resp = Response::for_request(req, status);
    if code > 100 {
        let to = resp
            .headers
            .get(&HeaderName::To)
            .expect("copied To")
            .to_string();
        resp.headers.set(HeaderName::To, format!("{to};tag=b1"));
    }
    resp
}

/// One layer in virtual time, with everything it emitted kept for inspection.
pub struct Harness {
    pub layer: TransactionLayer,
    pub epoch: Instant,
    pub now: Instant,
    /// (seconds since epoch, target, message) for every Transmit, in order.
    pub sent: Vec<(f64, Target, SipMessage)>,
    pub events: Vec<TransactionEvent>,
}

impl Harness {
    pub fn new() -> Harness {
        let epoch = Instant::now();
        Harness {
            layer: TransactionLayer::new(TimerConfig::default()),
            epoch,
            now: epoch,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn at(&self, secs: f64) -> Instant {
        self.epoch + Duration::from_secs_f64(secs)
    }

    pub fn drain(&mut self) {
        let secs = self.secs();
        while let Some(out) = self.layer.poll_output() {
            match out {
                TransactionOutput::Transmit { target, message } => {
                    self.sent.push((secs, target, message))
                }
                TransactionOutput::Event(e) => self.events.push(e),
            }
        }
    }

    /// Runs every timer up to `secs` (inclusive), as a driver would, in a bounded loop.
    pub fn run_until(&mut self, secs: f64) {
        let end = self.at(secs);
        for _ in 0..10_000 {
            self.drain();
            match self.layer.poll_timeout() {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.layer.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = self.now.max(end);
        self.drain();
    }

    pub fn send_request(&mut self, req: Request, to: Target) -> TransactionKey {
        let key = self.layer.send_request(self.now, req, to);
        self.drain();
        key
    }

    pub fn receive_request(&mut self, req: Request, from: Target) {
        self.layer
            .handle_message(self.now, SipMessage::Request(req), from);
        self.drain();
    }

    pub fn receive_response(&mut self, resp: Response, from: Target) {
        self.layer
            .handle_message(self.now, SipMessage::Response(resp), from);
        self.drain();
    }

    pub fn respond(&mut self, resp: Response) {
        self.layer
            .send_response(self.now, resp)
            .expect("a server transaction matches");
        self.drain();
    }

    pub fn secs(&self) -> f64 {
        (self.now - self.epoch).as_secs_f64()
    }

    /// Send times of every request with `method`.
    pub fn request_times(&self, method: Method) -> Vec<f64> {
        self.sent
            .iter()
            .filter(|(_, _, m)| matches!(m, SipMessage::Request(r) if r.method == method))
            .map(|(t, _, _)| *t)
            .collect()
    }

    /// Send times of every response with `code`.
    pub fn response_times(&self, code: u16) -> Vec<f64> {
        self.sent
            .iter()
            .filter(|(_, _, m)| matches!(m, SipMessage::Response(r) if r.status.code() == code))
            .map(|(t, _, _)| *t)
            .collect()
    }

    pub fn sent_requests(&self, method: Method) -> Vec<Request> {
        self.sent
            .iter()
            .filter_map(|(_, _, m)| match m {
                SipMessage::Request(r) if r.method == method => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn sent_responses(&self) -> Vec<Response> {
        self.sent
            .iter()
            .filter_map(|(_, _, m)| match m {
                SipMessage::Response(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn responses_for(&self, key: &TransactionKey) -> Vec<u16> {
        self.events
            .iter()
            .filter_map(|e| match e {
                TransactionEvent::Response { key: k, response } if k == key => {
                    Some(response.status.code())
                }
                _ => None,
            })
            .collect()
    }

    pub fn terminated(&self, key: &TransactionKey) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, TransactionEvent::Terminated { key: k } if k == key))
    }
}

/// Approximate float equality for send times (virtual time is exact up to f64 rounding).
pub fn assert_times(actual: &[f64], expected: &[f64]) {
    let close = actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| (a - e).abs() < 1e-6);
    assert!(close, "send times {actual:?}, expected {expected:?}");
}

/// Which of the two simulated phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Alice,
    Bob,
}

struct InFlight {
    at: Instant,
    to: Side,
    bytes: Vec<u8>,
}

/// Two layers joined by a seeded link with loss and jitter; messages cross as bytes and are
/// parsed again on arrival.
pub struct Pair {
    pub alice: TransactionLayer,
    pub bob: TransactionLayer,
    pub alice_addr: Target,
    pub bob_addr: Target,
    pub epoch: Instant,
    pub now: Instant,
    rng: StdRng,
    loss: f64,
    in_flight: Vec<InFlight>,
    /// Every message put on the link, lost or not: (seconds, sender, message).
    pub log: Vec<(f64, Side, SipMessage)>,
    pub lost: usize,
}

impl Pair {
    pub fn new(seed: u64, loss: f64) -> Pair {
        let epoch = Instant::now();
        Pair {
            alice: TransactionLayer::new(TimerConfig::default()),
            bob: TransactionLayer::new(TimerConfig::default()),
            alice_addr: udp(ALICE),
            bob_addr: udp(BOB),
            epoch,
            now: epoch,
            rng: StdRng::seed_from_u64(seed),
            loss,
            in_flight: Vec::new(),
            log: Vec::new(),
            lost: 0,
        }
    }

    pub fn layer(&mut self, side: Side) -> &mut TransactionLayer {
        match side {
            Side::Alice => &mut self.alice,
            Side::Bob => &mut self.bob,
        }
    }

    /// Moves both layers' outputs: transmits onto the link, events returned in order.
    pub fn drain(&mut self) -> Vec<(Side, TransactionEvent)> {
        let mut events = Vec::new();
        for side in [Side::Alice, Side::Bob] {
            while let Some(out) = self.layer(side).poll_output() {
                match out {
                    TransactionOutput::Transmit { message, .. } => self.put(side, message),
                    TransactionOutput::Event(e) => events.push((side, e)),
                }
            }
        }
        events
    }

    /// A message the UA sends outside any transaction (the ACK for a 2xx).
    pub fn put(&mut self, from: Side, message: SipMessage) {
        let secs = (self.now - self.epoch).as_secs_f64();
        self.log.push((secs, from, message.clone()));
        if self.rng.gen_bool(self.loss) {
            self.lost += 1;
            return;
        }
        let delay = Duration::from_millis(self.rng.gen_range(10..=60));
        let to = match from {
            Side::Alice => Side::Bob,
            Side::Bob => Side::Alice,
        };
        self.in_flight.push(InFlight {
            at: self.now + delay,
            to,
            bytes: message.to_bytes(),
        });
    }

    /// Advances virtual time to the next delivery, layer timer or `ua_deadline`, processes what
    /// is due and returns the events. `None` when nothing at all is left to happen.
    pub fn step(&mut self, ua_deadline: Option<Instant>) -> Option<Vec<(Side, TransactionEvent)>> {
        let mut events = self.drain();
        let next = [
            self.alice.poll_timeout(),
            self.bob.poll_timeout(),
            self.in_flight.iter().map(|m| m.at).min(),
            ua_deadline,
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else {
            return (!events.is_empty()).then_some(events);
        };
        self.now = self.now.max(next);
        let now = self.now;
        // Deliver everything due, earliest first (ties in send order).
        let mut due: Vec<InFlight> = Vec::new();
        let mut i = 0;
        while i < self.in_flight.len() {
            if self.in_flight[i].at <= now {
                due.push(self.in_flight.remove(i));
            } else {
                i += 1;
            }
        }
        due.sort_by_key(|m| m.at);
        for m in due {
            let source = match m.to {
                Side::Alice => self.bob_addr,
                Side::Bob => self.alice_addr,
            };
            let msg = parse_message(&m.bytes).expect("the layer emits parseable messages");
            self.layer(m.to).handle_message(now, msg, source);
        }
        self.alice.handle_timeout(now);
        self.bob.handle_timeout(now);
        events.extend(self.drain());
        Some(events)
    }

    pub fn secs(&self) -> f64 {
        (self.now - self.epoch).as_secs_f64()
    }
}
