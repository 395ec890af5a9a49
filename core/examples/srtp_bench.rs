//! SRTP per packet (160-byte payload): protect+unprotect round trip, protect alone and unprotect
//! alone, for AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM, beside libsrtp2 builds timed in the
//! same run by scripts/bench/srtp/libsrtp_bench.c. Prints one markdown table.
//! scripts/bench/srtp-bench.sh compiles the C side and runs this:
//!
//!     cargo run --release --example srtp_bench -- [N] [--reps R] [--peer LABEL=BINARY]...
//!
//! Each of the R rounds times Sipher once and runs each peer binary once as `BINARY N 1`; a peer
//! prints "version V" then "PROFILE ROUNDTRIP PROTECT UNPROTECT" (ns/packet) per profile. Each
//! cell is the median over the rounds.

// A benchmark measures wall-clock time; the sans-IO rule is for protocol code.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::process::Command;
use std::time::Instant;

use sipher::srtp::{MasterKeys, SrtpProfile, SrtpSession};

const PROFILES: [SrtpProfile; 2] = [SrtpProfile::Aes128CmHmacSha1_80, SrtpProfile::AeadAes128Gcm];
const OPERATIONS: [&str; 3] = ["protect+unprotect", "protect", "unprotect"];

fn main() {
    let mut n: u32 = 200_000;
    let mut reps: usize = 5;
    let mut peers: Vec<(String, String)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => reps = args.next().and_then(|r| r.parse().ok()).unwrap_or(reps),
            "--peer" => {
                let spec = args.next().unwrap_or_default();
                match spec.split_once('=') {
                    Some((label, bin)) => peers.push((label.to_string(), bin.to_string())),
                    None => eprintln!("srtp_bench: --peer wants LABEL=BINARY, got {spec:?}"),
                }
            }
            other => n = other.parse().unwrap_or(n),
        }
    }
    let reps = reps.max(1);

    // Rounds interleave Sipher and the peers, so that load from elsewhere on the machine falls
    // on all columns alike; each cell is the median over the rounds.
    let mut ours: Samples = HashMap::new();
    let mut theirs: Vec<(String, Samples)> = peers
        .iter()
        .map(|(label, _)| (label.clone(), HashMap::new()))
        .collect();
    for _ in 0..reps {
        for profile in PROFILES {
            let name = profile.sdes_name().expect("SDES suites").to_string();
            ours.entry(name).or_default().push(measure(profile, n));
        }
        for ((_, bin), (label, samples)) in peers.iter().zip(&mut theirs) {
            if let Some((version, results)) = run_peer(bin, n) {
                if !label.contains(&version) {
                    *label = format!("{label}: {version}");
                }
                for (name, v) in results {
                    samples.entry(name).or_default().push(v);
                }
            }
        }
    }

    println!(
        "SRTP ns/packet, 160-byte payload, {n} packets, median of {reps} interleaved rounds, \
         release build, one core"
    );
    println!();
    print!("| profile | operation | Sipher (webrtc-srtp, RustCrypto) |");
    for (label, _) in &theirs {
        print!(" {label} |");
    }
    println!();
    println!("|---|---|---:|{}", "---:|".repeat(theirs.len()));
    for profile in PROFILES {
        let name = profile.sdes_name().expect("SDES suites");
        for (i, op) in OPERATIONS.iter().enumerate() {
            print!("| {name} | {op} | {} |", cell(&ours, name, i));
            for (_, samples) in &theirs {
                print!(" {} |", cell(samples, name, i));
            }
            println!();
        }
    }
}

/// Per profile name, one [round trip, protect, unprotect] ns/packet per round.
type Samples = HashMap<String, Vec<[f64; 3]>>;

fn cell(samples: &Samples, name: &str, op: usize) -> String {
    match samples.get(name) {
        Some(runs) if !runs.is_empty() => {
            format!("{:.0}", median(runs.iter().map(|r| r[op]).collect()))
        }
        _ => "n/a".to_string(),
    }
}

/// [round trip, protect, unprotect] ns/packet over `n` packets, fresh sessions for each.
fn measure(profile: SrtpProfile, n: u32) -> [f64; 3] {
    let key = vec![0x11; profile.key_len()];
    let salt = vec![0x22; profile.salt_len()];
    let keys = MasterKeys::new(profile, &key, &salt).expect("lengths are the profile's");
    let mut tx = SrtpSession::new(profile, &keys, &keys).expect("keys are for profile");
    let mut rx = SrtpSession::new(profile, &keys, &keys).expect("keys are for profile");
    let mut buf = vec![0u8; 12 + 160];
    let start = Instant::now();
    for i in 0..n {
        fill(&mut buf, i);
        let protected = tx.protect_rtp(&buf).expect("valid RTP");
        let clear = rx.unprotect_rtp(&protected).expect("our own SRTP verifies");
        std::hint::black_box(clear);
    }
    let round_trip = per_packet(start, n);

    let mut tx = SrtpSession::new(profile, &keys, &keys).expect("keys are for profile");
    let mut rx = SrtpSession::new(profile, &keys, &keys).expect("keys are for profile");
    let start = Instant::now();
    let stored: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            fill(&mut buf, i);
            tx.protect_rtp(&buf).expect("valid RTP")
        })
        .collect();
    let protect = per_packet(start, n);
    let start = Instant::now();
    for p in &stored {
        std::hint::black_box(rx.unprotect_rtp(p).expect("our own SRTP verifies"));
    }
    let unprotect = per_packet(start, n);
    [round_trip, protect, unprotect]
}

/// The packet libsrtp_bench.c builds, in place: V=2, PT 0, seq i, timestamp 160*i,
/// SSRC 0x12345678, 160 zero bytes of payload.
fn fill(p: &mut [u8], i: u32) {
    p[0] = 0x80;
    p[2..4].copy_from_slice(&((i & 0xffff) as u16).to_be_bytes());
    p[4..8].copy_from_slice(&i.wrapping_mul(160).to_be_bytes());
    p[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
}

fn per_packet(start: Instant, n: u32) -> f64 {
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Runs one peer binary for one round: its version and its numbers per profile, or `None`
/// (with a message) if it failed.
fn run_peer(bin: &str, n: u32) -> Option<(String, HashMap<String, [f64; 3]>)> {
    let out = match Command::new(bin)
        .args([n.to_string(), "1".to_string()])
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => {
            eprintln!(
                "srtp_bench: {bin} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("srtp_bench: cannot run {bin}: {e}");
            return None;
        }
    };
    let mut version = String::new();
    let mut results = HashMap::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["version", rest @ ..] => version = rest.join(" "),
            [name, rt, pr, un] => {
                if let (Ok(rt), Ok(pr), Ok(un)) = (rt.parse(), pr.parse(), un.parse()) {
                    results.insert(name.to_string(), [rt, pr, un]);
                }
            }
            _ => {}
        }
    }
    Some((version, results))
}
