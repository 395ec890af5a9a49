//! A seeded network emulator in virtual time: per-link delay, jitter, random and bursty
//! (Gilbert-Elliott) loss, duplication and reordering for UDP; TCP/TLS are reliable and in order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipher::sip::{Target, Transport};

/// How one direction of a link treats datagrams.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// One-way delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` (datagrams may overtake each other).
    pub jitter: Duration,
    /// Independent loss probability, 0.0..=1.0 (UDP only).
    pub loss: f64,
    /// Bursty loss on top of `loss`.
    pub burst: Option<GilbertElliott>,
    /// Probability that a datagram arrives twice.
    pub duplicate: f64,
    /// Probability that a datagram is held back by up to 3 × `delay` more (reordering).
    pub reorder: f64,
}

/// Two-state burst loss: in the bad state datagrams are lost with `loss_in_bad`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    pub good_to_bad: f64,
    pub bad_to_good: f64,
    pub loss_in_bad: f64,
}

impl LinkConfig {
    /// A clean LAN-like link: 10 ms, no loss.
    pub fn clean() -> LinkConfig {
        LinkConfig {
            delay: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: 0.0,
            burst: None,
            duplicate: 0.0,
            reorder: 0.0,
        }
    }

    /// A bad mobile link: `loss` random loss, 40 ms ± 60 ms, some duplication and reordering.
    pub fn lossy(loss: f64) -> LinkConfig {
        LinkConfig {
            delay: Duration::from_millis(40),
            jitter: Duration::from_millis(60),
            loss,
            burst: Some(GilbertElliott {
                good_to_bad: 0.02,
                bad_to_good: 0.5,
                loss_in_bad: 0.6,
            }),
            duplicate: 0.02,
            reorder: 0.05,
        }
    }

    /// Drops everything.
    pub fn dead() -> LinkConfig {
        LinkConfig {
            loss: 1.0,
            ..LinkConfig::clean()
        }
    }
}

/// One datagram that was handed to the network (kept for assertions).
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: Instant,
    pub from: SocketAddr,
    pub to: Target,
    pub data: Vec<u8>,
    pub dropped: bool,
}

impl Sent {
    /// The first line, e.g. `REGISTER sip:sip.test SIP/2.0` or `SIP/2.0 200 OK`.
    pub fn start_line(&self) -> String {
        let text = String::from_utf8_lossy(&self.data);
        text.lines().next().unwrap_or("").to_string()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// True for a request with this method.
    pub fn is_request(&self, method: &str) -> bool {
        self.start_line().starts_with(&format!("{method} "))
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        let line = self.start_line();
        let rest = line.strip_prefix("SIP/2.0 ")?;
        rest.get(..3)?.parse().ok()
    }

    /// The method named in CSeq.
    pub fn cseq_method(&self) -> Option<String> {
        let text = self.text();
        let line = text
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("cseq:"))?;
        line.split_whitespace().nth(2).map(str::to_string)
    }
}

/// A datagram on its way.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub at: Instant,
    pub from: SocketAddr,
    pub to: Target,
    pub data: Vec<u8>,
}

type DropRule = Box<dyn FnMut(&Sent) -> bool>;

/// The emulator. Everything random comes from one seeded generator.
pub struct Net {
    rng: StdRng,
    pub default_link: LinkConfig,
    links: HashMap<(SocketAddr, SocketAddr), LinkConfig>,
    bursting: HashMap<(SocketAddr, SocketAddr), bool>,
    /// Last delivery time per reliable link, so TCP/TLS stay in order.
    stream_tail: HashMap<(SocketAddr, SocketAddr), Instant>,
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
    in_flight: HashMap<u64, Delivery>,
    serial: u64,
    drop_rules: Vec<DropRule>,
    /// Every datagram ever sent, in order.
    pub log: Vec<Sent>,
}

impl Net {
    pub fn new(seed: u64) -> Net {
        Net {
            rng: StdRng::seed_from_u64(seed),
            default_link: LinkConfig::clean(),
            links: HashMap::new(),
            bursting: HashMap::new(),
            stream_tail: HashMap::new(),
            queue: BinaryHeap::new(),
            in_flight: HashMap::new(),
            serial: 0,
            drop_rules: Vec::new(),
            log: Vec::new(),
        }
    }

    /// Sets the link config for datagrams from `from` to `to` (one direction).
    pub fn set_link(&mut self, from: SocketAddr, to: SocketAddr, config: LinkConfig) {
        self.links.insert((from, to), config);
    }

    /// Sets both directions between `a` and `b`.
    pub fn set_links(&mut self, a: SocketAddr, b: SocketAddr, config: LinkConfig) {
        self.set_link(a, b, config.clone());
        self.set_link(b, a, config);
    }

    /// Drops the first datagram for which `rule` is true (then the rule is spent).
    pub fn drop_once(&mut self, rule: impl Fn(&Sent) -> bool + 'static) {
        let mut spent = false;
        self.drop_rules.push(Box::new(move |s| {
            if !spent && rule(s) {
                spent = true;
                return true;
            }
            false
        }));
    }

    /// Hands a datagram to the network at `now`.
    pub fn send(&mut self, now: Instant, from: SocketAddr, to: Target, data: Vec<u8>) {
        let mut sent = Sent {
            at: now,
            from,
            to,
            data,
            dropped: false,
        };
        let ruled_out = self.drop_rules.iter_mut().any(|r| r(&sent));
        let link = self
            .links
            .get(&(from, to.addr))
            .unwrap_or(&self.default_link)
            .clone();
        let key = (from, to.addr);
        if to.transport.is_reliable() {
            sent.dropped = ruled_out;
            if !ruled_out {
                let at = now + link.delay;
                let tail = self.stream_tail.get(&key).copied().unwrap_or(at);
                let at = at.max(tail);
                self.stream_tail.insert(key, at);
                self.enqueue(at, &sent);
            }
            self.log.push(sent);
            return;
        }
        let mut lost = ruled_out || self.rng.gen_bool(link.loss.clamp(0.0, 1.0));
        if let Some(ge) = link.burst {
            let bad = self.bursting.entry(key).or_insert(false);
            let flip = if *bad { ge.bad_to_good } else { ge.good_to_bad };
            if self.rng.gen_bool(flip.clamp(0.0, 1.0)) {
                *bad = !*bad;
            }
            if *bad && self.rng.gen_bool(ge.loss_in_bad.clamp(0.0, 1.0)) {
                lost = true;
            }
        }
        sent.dropped = lost;
        if !lost {
            let copies = if self.rng.gen_bool(link.duplicate.clamp(0.0, 1.0)) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let mut at = now + link.delay + self.jitter(link.jitter);
                if self.rng.gen_bool(link.reorder.clamp(0.0, 1.0)) {
                    at += self.jitter(link.delay * 3);
                }
                self.enqueue(at, &sent);
            }
        }
        self.log.push(sent);
    }

    /// When the next datagram arrives.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((at, _))| *at)
    }

    /// The next datagram due at or before `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<Delivery> {
        let Reverse((at, serial)) = *self.queue.peek()?;
        if at > now {
            return None;
        }
        self.queue.pop();
        self.in_flight.remove(&serial)
    }

    /// Datagrams sent from `from` whose start line begins with `method ` (requests).
    pub fn requests_from(&self, from: SocketAddr, method: &str) -> Vec<&Sent> {
        self.log
            .iter()
            .filter(|s| s.from == from && s.is_request(method))
            .collect()
    }

    /// Responses sent from `from` with this status.
    pub fn responses_from(&self, from: SocketAddr, status: u16) -> Vec<&Sent> {
        self.log
            .iter()
            .filter(|s| s.from == from && s.status() == Some(status))
            .collect()
    }

    fn jitter(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        let micros = max.as_micros() as u64;
        Duration::from_micros(self.rng.gen_range(0..=micros))
    }

    fn enqueue(&mut self, at: Instant, sent: &Sent) {
        self.serial += 1;
        self.queue.push(Reverse((at, self.serial)));
        self.in_flight.insert(
            self.serial,
            Delivery {
                at,
                from: sent.from,
                to: sent.to,
                data: sent.data.clone(),
            },
        );
    }
}

/// Shorthand for a UDP target.
pub fn udp(addr: SocketAddr) -> Target {
    Target {
        transport: Transport::Udp,
        addr,
    }
}
