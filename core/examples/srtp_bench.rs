//! SRTP protect+unprotect per packet (160-byte payload), beside libsrtp2 in the same run when
//! `python3 scripts/srtp/libsrtp_peer.py --bench N` works (pylibsrtp installed). Prints a table.
//!
//!     cargo run --release --example srtp_bench [-- N]

use std::process::Command;
use std::time::Instant;

use sipher::srtp::{MasterKeys, SrtpProfile, SrtpSession};

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let libsrtp = Command::new("python3")
        .args(["scripts/srtp/libsrtp_peer.py", "--bench", &n.to_string()])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string());
    println!("SRTP protect+unprotect, 160-byte payload, {n} packets, release build, one core");
    println!(
        "{:<26} {:>16} {:>22}",
        "profile", "sipher ns/packet", "libsrtp2 ns/packet"
    );
    for (profile, name) in [
        (SrtpProfile::Aes128CmHmacSha1_80, "AES_CM_128_HMAC_SHA1_80"),
        (SrtpProfile::AeadAes128Gcm, "AEAD_AES_128_GCM"),
    ] {
        let ours = measure(profile, n);
        let theirs = libsrtp
            .as_deref()
            .and_then(|out| serde_json::from_str::<serde_json::Value>(out.trim()).ok())
            .and_then(|v| v.get(name).and_then(|x| x.as_f64()))
            .map_or("n/a".to_string(), |ns| format!("{ns:.0}"));
        println!("{name:<26} {ours:>16.0} {theirs:>22}");
    }
}

fn measure(profile: SrtpProfile, n: u32) -> f64 {
    let key = vec![0x11; profile.key_len()];
    let salt = vec![0x22; profile.salt_len()];
    let keys = MasterKeys::new(profile, &key, &salt).expect("valid lengths");
    let mut tx = SrtpSession::new(profile, &keys, &keys).expect("session");
    let mut rx = SrtpSession::new(profile, &keys, &keys).expect("session");
    let mut packet = vec![0u8; 12 + 160];
    packet[0] = 0x80;
    packet[1] = 0;
    packet[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    let start = Instant::now();
    for i in 0..n {
        packet[2..4].copy_from_slice(&((i & 0xffff) as u16).to_be_bytes());
        packet[4..8].copy_from_slice(&(i * 160).to_be_bytes());
        let protected = tx.protect_rtp(&packet).expect("protect");
        let clear = rx.unprotect_rtp(&protected).expect("unprotect");
        std::hint::black_box(clear);
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}
