//! SRTP per packet (160-byte payload): protect+unprotect round trip, protect alone and unprotect
//! alone, for AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM, beside libsrtp2 builds timed in the
//! same run by scripts/bench/srtp/libsrtp_bench.c. Prints one markdown table.
//! scripts/bench/srtp-bench.sh compiles the C side and runs this:
//!
//!     cargo run --release --example srtp_bench -- [N] [--reps R] [--peer LABEL=BINARY]...
//!
//! Each peer binary is run as `BINARY N R` and prints "version V" then
//! "PROFILE ROUNDTRIP PROTECT UNPROTECT" (ns/packet, median of R) per profile.

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

    // Sipher first, then each peer, one after the other on the same machine.
    let ours: HashMap<&str, [f64; 3]> = PROFILES
        .iter()
        .map(|p| (p.sdes_name().expect("SDES suites"), measure(*p, n, reps)))
        .collect();
    let columns: Vec<(String, Option<HashMap<String, [f64; 3]>>)> = peers
        .iter()
        .map(|(label, bin)| run_peer(label, bin, n, reps))
        .collect();

    println!(
        "SRTP ns/packet, 160-byte payload, {n} packets, median of {reps} runs, release build, \
         one core"
    );
    println!();
    print!("| profile | operation | Sipher (webrtc-srtp, RustCrypto) |");
    for (label, _) in &columns {
        print!(" {label} |");
    }
    println!();
    println!("|---|---|---:|{}", "---:|".repeat(columns.len()));
    for profile in PROFILES {
        let name = profile.sdes_name().expect("SDES suites");
        for (i, op) in OPERATIONS.iter().enumerate() {
            print!("| {name} | {op} | {:.0} |", ours[name][i]);
            for (_, results) in &columns {
                match results.as_ref().and_then(|r| r.get(name)) {
                    Some(v) => print!(" {:.0} |", v[i]),
                    None => print!(" n/a |"),
                }
            }
            println!();
        }
    }
}

/// Median over `reps` fresh session pairs of [round trip, protect, unprotect] ns/packet.
fn measure(profile: SrtpProfile, n: u32, reps: usize) -> [f64; 3] {
    let key = vec![0x11; profile.key_len()];
    let salt = vec![0x22; profile.salt_len()];
    let keys = MasterKeys::new(profile, &key, &salt).expect("lengths are the profile's");
    let mut runs = vec![[0.0; 3]; reps];
    for run in &mut runs {
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
        run[0] = per_packet(start, n);

        let mut tx = SrtpSession::new(profile, &keys, &keys).expect("keys are for profile");
        let mut rx = SrtpSession::new(profile, &keys, &keys).expect("keys are for profile");
        let start = Instant::now();
        let stored: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                fill(&mut buf, i);
                tx.protect_rtp(&buf).expect("valid RTP")
            })
            .collect();
        run[1] = per_packet(start, n);
        let start = Instant::now();
        for p in &stored {
            std::hint::black_box(rx.unprotect_rtp(p).expect("our own SRTP verifies"));
        }
        run[2] = per_packet(start, n);
    }
    std::array::from_fn(|i| median(runs.iter().map(|r| r[i]).collect()))
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

/// Runs one peer binary; the column label gets the version it reports. `None` if it failed.
fn run_peer(
    label: &str,
    bin: &str,
    n: u32,
    reps: usize,
) -> (String, Option<HashMap<String, [f64; 3]>>) {
    let out = match Command::new(bin)
        .args([n.to_string(), reps.to_string()])
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => {
            eprintln!(
                "srtp_bench: {bin} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return (label.to_string(), None);
        }
        Err(e) => {
            eprintln!("srtp_bench: cannot run {bin}: {e}");
            return (label.to_string(), None);
        }
    };
    let mut version = None;
    let mut results = HashMap::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["version", rest @ ..] => version = Some(rest.join(" ")),
            [name, rt, pr, un] => {
                if let (Ok(rt), Ok(pr), Ok(un)) = (rt.parse(), pr.parse(), un.parse()) {
                    results.insert(name.to_string(), [rt, pr, un]);
                }
            }
            _ => {}
        }
    }
    let label = match version {
        Some(v) => format!("{label}: {v}"),
        None => label.to_string(),
    };
    (label, Some(results))
}
