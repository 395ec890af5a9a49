//! CPU per ZRTP handshake for each key agreement: two `ZrtpEndpoint`s in one thread over a
//! perfect link (no loss, no delay, virtual time), from `ZrtpEndpoint::new` to both sides Secure.
//! Prints a table.
//!
//!     cargo run --release --example zrtp_bench [-- N]
//!
//! N handshakes per key agreement (default: as many as fit in about 2 s of CPU, at least 20).
//! "Both sides" is the thread's CPU time (utime + stime of /proc/thread-self/stat, so Linux
//! only) divided by the handshakes; the initiator/responder split divides that CPU time in the
//! proportion of the wall time spent inside each endpoint's calls (single thread, nothing sleeps,
//! so the two clocks differ only by preemption). Both endpoints start at once as in a call, so
//! Commit contention decides who initiates; every handshake uses fresh keys and ZIDs.
//!
//! For scale, the last column is what the key agreement's primitive alone costs one side in
//! OpenSSL (`openssl speed`, if installed): two operations (key generation and the shared
//! secret), from its ops/s over wall time in the same run. It leaves out everything else a
//! handshake does (hashes, HMACs, KDF, Confirm encryption, message parsing).

// A benchmark reads the clock; the ban on Instant::now is for protocol code (clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::process::Command;
use std::time::{Duration, Instant};

use rand::{rngs::StdRng, SeedableRng};
use sipher::zrtp::algorithms::{HashAlgorithm, KeyAgreement};
use sipher::zrtp::message::Zid;
use sipher::zrtp::session::{SecureInfo, ZrtpConfig, ZrtpEndpoint, ZrtpOutput, ZrtpState};

const MIN_HANDSHAKES: u32 = 20;
const TARGET_CPU: Duration = Duration::from_secs(2);

fn main() {
    let fixed: Option<u32> = std::env::args().nth(1).and_then(|a| a.parse().ok());
    let tick = clock_tick();
    println!(
        "ZRTP handshake CPU (Hello .. Conf2ACK, both endpoints in one thread, perfect link), \
         release build, one core"
    );
    println!(
        "{:<6} {:<20} {:>6} {:>14} {:>10} {:>10} {:>10} {:>10} {:>16}",
        "KA",
        "negotiated",
        "N",
        "CPU ms (both)",
        "per side",
        "initiator",
        "responder",
        "wall ms",
        "OpenSSL 2 ops ms"
    );
    for (ka, openssl_alg) in [
        (KeyAgreement::Dh2k, "ffdh2048"),
        (KeyAgreement::Dh3k, "ffdh3072"),
        (KeyAgreement::Ec25, "ecdhp256"),
        (KeyAgreement::Ec38, "ecdhp384"),
        (KeyAgreement::X255, "ecdhx25519"),
    ] {
        // Warm-up: page in the code and tables before measuring.
        let mut seed = 1_000_000;
        let negotiated = handshake(ka, seed).info;
        let mut total = Split::default();
        let mut n = 0u32;
        let cpu0 = thread_cpu(tick);
        let wall0 = Instant::now();
        loop {
            seed += 1;
            let h = handshake(ka, seed);
            total.initiator += h.initiator;
            total.responder += h.responder;
            n += 1;
            let done = match fixed {
                Some(f) => n >= f,
                None => n >= MIN_HANDSHAKES && thread_cpu(tick) - cpu0 >= TARGET_CPU,
            };
            if done {
                break;
            }
        }
        let cpu = (thread_cpu(tick) - cpu0).as_secs_f64() * 1e3 / f64::from(n);
        let wall = wall0.elapsed().as_secs_f64() * 1e3 / f64::from(n);
        let inside = (total.initiator + total.responder).as_secs_f64();
        let share = |d: Duration| cpu * d.as_secs_f64() / inside;
        let openssl = openssl_ops_per_s(openssl_alg)
            .map_or("n/a".to_string(), |ops| format!("{:.3}", 2.0 * 1e3 / ops));
        println!(
            "{:<6} {:<20} {:>6} {:>14.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>16}",
            ka.id().to_string(),
            format!("{}/{}", negotiated.cipher_name(), negotiated.hash.id()),
            n,
            cpu,
            cpu / 2.0,
            share(total.initiator),
            share(total.responder),
            wall,
            openssl,
        );
    }
}

/// Wall time spent inside each endpoint's calls during one handshake, by role.
#[derive(Default)]
struct Split {
    initiator: Duration,
    responder: Duration,
}

struct Handshake {
    info: SecureInfo,
    initiator: Duration,
    responder: Duration,
}

/// One handshake offering only `ka`; panics if it does not end Secure on both sides with the
/// same SAS (a broken engine must not produce a timing).
fn handshake(ka: KeyAgreement, seed: u64) -> Handshake {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut now = Instant::now();
    let config = |zid: u8| {
        let mut c = ZrtpConfig::new(Zid([zid; 12]));
        c.algorithms.key_agreements = vec![ka];
        if ka == KeyAgreement::Ec38 {
            // EC38 goes with S384 (RFC 6189 §5.1.5).
            c.algorithms.hashes = vec![HashAlgorithm::S384];
        }
        c
    };
    let mut spent = [Duration::ZERO; 2];
    let t = Instant::now();
    let mut a = ZrtpEndpoint::new(config(1), 0xa, now, &mut rng);
    a.start(now);
    spent[0] += t.elapsed();
    let t = Instant::now();
    let mut b = ZrtpEndpoint::new(config(2), 0xb, now, &mut rng);
    b.start(now);
    spent[1] += t.elapsed();
    let mut secure: [Option<SecureInfo>; 2] = [None, None];
    for _ in 0..200 {
        let mut idle = true;
        for side in 0..2 {
            let (me, peer) = if side == 0 {
                (&mut a, &mut b)
            } else {
                (&mut b, &mut a)
            };
            loop {
                let t = Instant::now();
                let out = me.poll_output();
                spent[side] += t.elapsed();
                let Some(out) = out else { break };
                idle = false;
                match out {
                    ZrtpOutput::Transmit(packet) => {
                        let t = Instant::now();
                        peer.handle_packet(now, &packet);
                        spent[1 - side] += t.elapsed();
                    }
                    ZrtpOutput::Secure(info) => secure[side] = Some(info),
                    ZrtpOutput::Failed(why) => panic!("{ka:?} handshake failed: {why}"),
                }
            }
        }
        if secure[0].is_some() && secure[1].is_some() {
            break;
        }
        if idle {
            let Some(next) = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
            else {
                break;
            };
            now = next;
            for (side, e) in [&mut a, &mut b].into_iter().enumerate() {
                let t = Instant::now();
                e.handle_timeout(now);
                spent[side] += t.elapsed();
            }
        }
    }
    assert_eq!(
        (a.state(), b.state()),
        (ZrtpState::Secure, ZrtpState::Secure),
        "{ka:?}"
    );
    let [Some(ia), Some(ib)] = secure else {
        panic!("{ka:?}: Secure state without a Secure output")
    };
    assert_eq!(ia.sas, ib.sas, "{ka:?}: SAS differs");
    assert_eq!(ia.key_agreement, ka);
    let (initiator, responder) = if ia.we_are_initiator {
        (spent[0], spent[1])
    } else {
        (spent[1], spent[0])
    };
    Handshake {
        info: ia,
        initiator,
        responder,
    }
}

/// This thread's CPU time (user + system) from /proc/thread-self/stat, in clock ticks.
fn thread_cpu(tick: Duration) -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat")
        .expect("Linux: /proc/thread-self/stat is readable");
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
    let rest = &stat[stat.rfind(')').expect("stat has the (comm) field") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after "(comm) ".
    let ticks: u32 = fields[11].parse::<u32>().expect("utime is a number")
        + fields[12].parse::<u32>().expect("stime is a number");
    tick * ticks
}

/// `openssl speed -seconds 1 ALG`: the operations per second on its last line, if it ran.
fn openssl_ops_per_s(alg: &str) -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "1", alg])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let ops = text
        .lines()
        .last()?
        .split_whitespace()
        .last()?
        .parse::<f64>()
        .ok()?;
    (ops > 0.0).then_some(ops)
}

/// The length of a clock tick (getconf CLK_TCK; 100 Hz when getconf is missing).
fn clock_tick() -> Duration {
    let hz = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&hz| hz > 0)
        .unwrap_or(100);
    Duration::from_secs(1) / hz
}
