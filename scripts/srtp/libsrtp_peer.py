#!/usr/bin/env python3
"""libsrtp2 (through pylibsrtp) as the peer of sipher's SRTP, for tests/srtp_libsrtp.rs.

Reads one JSON job on stdin: {"profile": name, "ours": key||salt hex, "theirs": key||salt hex,
"srtp": [hex...], "srtcp": [hex...], "rtp": [hex...], "rtcp": [hex...]}. Unprotects "srtp"/"srtcp"
(protected by sipher with "ours") and protects "rtp"/"rtcp" with "theirs". Prints JSON:
{"rtp": [...plaintexts], "rtcp": [...], "srtp": [...protected], "srtcp": [...]}.
AES-256-CM is not reachable through pylibsrtp: libsrtp_peer.c covers it (tests/srtp_libsrtp2.rs).
"""
import json
import sys

import pylibsrtp

PROFILES = {
    "AES_CM_128_HMAC_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    "AES_CM_128_HMAC_SHA1_32": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
    "AEAD_AES_128_GCM": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM,
    "AEAD_AES_256_GCM": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_256_GCM,
}


def session(profile, key_hex, inbound):
    policy = pylibsrtp.Policy(
        key=bytes.fromhex(key_hex),
        ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND if inbound else pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=PROFILES[profile],
    )
    return pylibsrtp.Session(policy=policy)


def main():
    job = json.load(sys.stdin)
    rx = session(job["profile"], job["ours"], True)
    tx = session(job["profile"], job["theirs"], False)
    result = {
        "rtp": [rx.unprotect(bytes.fromhex(p)).hex() for p in job["srtp"]],
        "rtcp": [rx.unprotect_rtcp(bytes.fromhex(p)).hex() for p in job["srtcp"]],
        "srtp": [tx.protect(bytes.fromhex(p)).hex() for p in job["rtp"]],
        "srtcp": [tx.protect_rtcp(bytes.fromhex(p)).hex() for p in job["rtcp"]],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
