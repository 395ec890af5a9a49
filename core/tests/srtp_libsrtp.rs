//! Cross-check with libsrtp2 (pylibsrtp): packets we protect, libsrtp unprotects, and the other
//! way, same keys. Skipped with a message when python3 or pylibsrtp is missing, unless
//! SIPHER_REQUIRE_LIBSRTP is set (then it fails).

use std::io::Write;
use std::process::{Command, Stdio};

use sipher::srtp::{MasterKeys, SrtpProfile, SrtpSession};

const PEER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scripts/srtp/libsrtp_peer.py"
);

fn libsrtp_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pylibsrtp"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok && std::env::var_os("SIPHER_REQUIRE_LIBSRTP").is_some() {
        panic!("pylibsrtp is required (SIPHER_REQUIRE_LIBSRTP) but python3 cannot import it");
    }
    if !ok {
        eprintln!("srtp_libsrtp: skipped, python3 cannot import pylibsrtp");
    }
    ok
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

fn hexes(v: &serde_json::Value) -> Vec<Vec<u8>> {
    v.as_array()
        .expect("libsrtp_peer prints arrays")
        .iter()
        .map(|s| hex::decode(s.as_str().expect("hex string")).expect("valid hex"))
        .collect()
}

#[test]
fn libsrtp_reads_ours_and_we_read_libsrtp() {
    if !libsrtp_available() {
        return;
    }
    let profiles = [
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
    ];
    for profile in profiles {
        let ours = MasterKeys::new(
            profile,
            &(0..profile.key_len() as u8).collect::<Vec<_>>(),
            &vec![0x3C; profile.salt_len()],
        )
        .unwrap();
        let theirs = MasterKeys::new(
            profile,
            &vec![0xA5; profile.key_len()],
            &(0..profile.salt_len() as u8).collect::<Vec<_>>(),
        )
        .unwrap();
        let mut session = SrtpSession::new(profile, &ours, &theirs).unwrap();
        // Across the sequence wrap, so both sides must agree on the ROC.
        let seqs = [65530u16, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3];
        let plain_rtp: Vec<_> = seqs.iter().map(|s| rtp(*s, 0xC0FFEE)).collect();
        let plain_rtcp: Vec<_> = (0..3).map(|n| rtcp(0xC0FFEE, n)).collect();
        let job = serde_json::json!({
            "profile": profile.sdes_name().unwrap(),
            "ours": hex::encode(ours.concatenated()),
            "theirs": hex::encode(theirs.concatenated()),
            "srtp": plain_rtp.iter().map(|p| hex::encode(session.protect_rtp(p).unwrap())).collect::<Vec<_>>(),
            "srtcp": plain_rtcp.iter().map(|p| hex::encode(session.protect_rtcp(p).unwrap())).collect::<Vec<_>>(),
            "rtp": plain_rtp.iter().map(hex::encode).collect::<Vec<_>>(),
            "rtcp": plain_rtcp.iter().map(hex::encode).collect::<Vec<_>>(),
        });
        let mut child = Command::new("python3")
            .arg(PEER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(job.to_string().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "libsrtp_peer failed for {profile:?}");
        let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

        assert_eq!(
            hexes(&reply["rtp"]),
            plain_rtp,
            "libsrtp read our SRTP, {profile:?}"
        );
        assert_eq!(
            hexes(&reply["rtcp"]),
            plain_rtcp,
            "libsrtp read our SRTCP, {profile:?}"
        );
        for (srtp, plain) in hexes(&reply["srtp"]).iter().zip(&plain_rtp) {
            assert_eq!(&session.unprotect_rtp(srtp).unwrap(), plain, "{profile:?}");
        }
        for (srtcp, plain) in hexes(&reply["srtcp"]).iter().zip(&plain_rtcp) {
            assert_eq!(
                &session.unprotect_rtcp(srtcp).unwrap(),
                plain,
                "{profile:?}"
            );
        }
    }
}
