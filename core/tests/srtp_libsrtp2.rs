//! Cross-check with the system libsrtp2 through a small C peer (scripts/srtp/libsrtp_peer.c),
//! for every SDES suite, AES_256_CM_HMAC_SHA1_80/_32 included (pylibsrtp, used by
//! srtp_libsrtp.rs, cannot select those). Per suite and both directions, SRTP and SRTCP:
//! libsrtp unprotects what we protect, we unprotect what libsrtp protects, and for the same keys
//! and input both produce the same bytes (CM and GCM are deterministic given key, salt and index).
//!
//! The peer is compiled with `cc ... -lsrtp2` (Debian: libsrtp2-dev). Without a compiler or the
//! library the tests are skipped with a message, unless SIPHER_REQUIRE_LIBSRTP is set (as the
//! srtp-libsrtp2 stage of scripts/test.sh does): then they fail.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sipher::srtp::{MasterKeys, SrtpProfile, SrtpSession};

const PEER_SOURCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scripts/srtp/libsrtp_peer.c"
);

#[test]
fn aes_cm_128_hmac_sha1_80() {
    cross_check(SrtpProfile::Aes128CmHmacSha1_80);
}

#[test]
fn aes_cm_128_hmac_sha1_32() {
    cross_check(SrtpProfile::Aes128CmHmacSha1_32);
}

#[test]
fn aes_256_cm_hmac_sha1_80() {
    cross_check(SrtpProfile::Aes256CmHmacSha1_80);
}

#[test]
fn aes_256_cm_hmac_sha1_32() {
    cross_check(SrtpProfile::Aes256CmHmacSha1_32);
}

#[test]
fn aead_aes_128_gcm() {
    cross_check(SrtpProfile::AeadAes128Gcm);
}

#[test]
fn aead_aes_256_gcm() {
    cross_check(SrtpProfile::AeadAes256Gcm);
}

/// A packet libsrtp tampered with on the way is refused by us, and the other way round: the
/// cross-check above would also pass if both sides skipped authentication.
#[test]
fn tampered_packets_are_refused_both_ways() {
    let Some(peer) = peer() else { return };
    let profile = SrtpProfile::Aes256CmHmacSha1_32;
    let (ours, theirs) = keys(profile);
    let mut session = SrtpSession::new(profile, &ours, &theirs).expect("keys are for profile");
    let mut mine = session.protect_rtp(&rtp(7, 0xC0FFEE)).expect("valid RTP");
    let last = mine.len() - 1;
    mine[last] ^= 1;
    let reply = run_peer(
        &peer,
        profile,
        &ours,
        &theirs,
        &[("unprotect_rtp", mine), ("protect_rtp", rtp(7, 0xC0FFEE))],
    );
    assert!(
        reply[0].starts_with("error"),
        "libsrtp accepted a tampered {profile} packet"
    );
    let mut theirs_packet = hex::decode(&reply[1]).expect("libsrtp protected the packet");
    theirs_packet[20] ^= 0x80;
    assert!(
        session.unprotect_rtp(&theirs_packet).is_err(),
        "we accepted a tampered {profile} packet from libsrtp"
    );
}

fn cross_check(profile: SrtpProfile) {
    let Some(peer) = peer() else { return };
    let (ours, theirs) = keys(profile);
    let mut session = SrtpSession::new(profile, &ours, &theirs).expect("keys are for profile");
    // What libsrtp protects with `theirs`, a second session of ours protects with the same keys.
    let mut mirror = SrtpSession::new(profile, &theirs, &ours).expect("keys are for profile");
    // Across the sequence wrap, so both sides must agree on the rollover counter.
    let seqs = [65530u16, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3];
    let plain_rtp: Vec<_> = seqs.iter().map(|s| rtp(*s, 0xC0FFEE)).collect();
    let plain_rtcp: Vec<_> = (0..3).map(|n| rtcp(0xC0FFEE, n)).collect();

    let mut commands = Vec::new();
    for p in &plain_rtp {
        let srtp = session.protect_rtp(p).expect("valid RTP");
        commands.push(("unprotect_rtp", srtp));
    }
    for p in &plain_rtcp {
        let srtcp = session.protect_rtcp(p).expect("valid RTCP");
        commands.push(("unprotect_rtcp", srtcp));
    }
    commands.extend(plain_rtp.iter().map(|p| ("protect_rtp", p.clone())));
    commands.extend(plain_rtcp.iter().map(|p| ("protect_rtcp", p.clone())));
    let reply = run_peer(&peer, profile, &ours, &theirs, &commands);
    let reply: Vec<Vec<u8>> = reply
        .iter()
        .zip(&commands)
        .map(|(line, (op, _))| {
            hex::decode(line)
                .unwrap_or_else(|_| panic!("libsrtp {op} failed for {profile}: {line}"))
        })
        .collect();
    let (rtp_back, rest) = reply.split_at(plain_rtp.len());
    let (rtcp_back, rest) = rest.split_at(plain_rtcp.len());
    let (srtp_theirs, srtcp_theirs) = rest.split_at(plain_rtp.len());

    assert_eq!(rtp_back, &plain_rtp[..], "libsrtp read our SRTP, {profile}");
    assert_eq!(
        rtcp_back,
        &plain_rtcp[..],
        "libsrtp read our SRTCP, {profile}"
    );
    for ((srtp, plain), seq) in srtp_theirs.iter().zip(&plain_rtp).zip(seqs) {
        assert_eq!(
            &session
                .unprotect_rtp(srtp)
                .expect("libsrtp's SRTP verifies"),
            plain,
            "we read libsrtp's SRTP, {profile}, seq {seq}"
        );
        assert_eq!(
            &mirror.protect_rtp(plain).expect("valid RTP"),
            srtp,
            "same SRTP bytes as libsrtp, {profile}, seq {seq}"
        );
    }
    for (srtcp, plain) in srtcp_theirs.iter().zip(&plain_rtcp) {
        assert_eq!(
            &session
                .unprotect_rtcp(srtcp)
                .expect("libsrtp's SRTCP verifies"),
            plain,
            "we read libsrtp's SRTCP, {profile}"
        );
        assert_eq!(
            &mirror.protect_rtcp(plain).expect("valid RTCP"),
            srtcp,
            "same SRTCP bytes as libsrtp, {profile}"
        );
    }
}

/// Distinct keys for the two directions, so a peer that mixed them up would fail.
fn keys(profile: SrtpProfile) -> (MasterKeys, MasterKeys) {
    let ours = MasterKeys::new(
        profile,
        &(0..profile.key_len() as u8).collect::<Vec<_>>(),
        &vec![0x3C; profile.salt_len()],
    )
    .expect("lengths are the profile's");
    let theirs = MasterKeys::new(
        profile,
        &vec![0xA5; profile.key_len()],
        &(0..profile.salt_len() as u8).collect::<Vec<_>>(),
    )
    .expect("lengths are the profile's");
    (ours, theirs)
}

fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0x08];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq).wrapping_mul(160)).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..160).map(|i| (i as u8).wrapping_mul(seq as u8 | 1)));
    p
}

fn rtcp(ssrc: u32, n: u8) -> Vec<u8> {
    let mut p = vec![0x81, 201, 0, 7];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[n; 24]);
    p
}

/// Runs the peer on `commands` and returns its output lines, one per command.
fn run_peer(
    peer: &PathBuf,
    profile: SrtpProfile,
    ours: &MasterKeys,
    theirs: &MasterKeys,
    commands: &[(&str, Vec<u8>)],
) -> Vec<String> {
    let mut child = Command::new(peer)
        .arg(profile.sdes_name().expect("an SDES suite"))
        .arg(hex::encode(ours.concatenated()))
        .arg(hex::encode(theirs.concatenated()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the compiled peer runs");
    let input: String = commands
        .iter()
        .map(|(op, packet)| format!("{op} {}\n", hex::encode(packet)))
        .collect();
    // The peer reads everything before it exits, and the input is a few kB: no deadlock.
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("peer reads stdin");
    let out = child.wait_with_output().expect("peer exits");
    assert!(out.status.success(), "libsrtp_peer failed for {profile}");
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .expect("peer prints ASCII")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        lines.len(),
        commands.len(),
        "one reply per command, {profile}"
    );
    lines
}

/// The peer binary, compiled once per test run; `None` (skip) when it cannot be built.
fn peer() -> Option<PathBuf> {
    static PEER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = PEER.get_or_init(|| {
        let bin = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("libsrtp_peer");
        let out = Command::new("cc")
            .args(["-O2", "-Wall", "-o"])
            .arg(&bin)
            .arg(PEER_SOURCE)
            .arg("-lsrtp2")
            .output()
            .map_err(|e| format!("cannot run cc: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cc -lsrtp2 failed (libsrtp2-dev missing?): {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(bin)
    });
    match built {
        Ok(bin) => Some(bin.clone()),
        Err(why) if std::env::var_os("SIPHER_REQUIRE_LIBSRTP").is_some() => {
            panic!("libsrtp2 is required (SIPHER_REQUIRE_LIBSRTP): {why}")
        }
        Err(why) => {
            eprintln!("srtp_libsrtp2: skipped, {why}");
            None
        }
    }
}
