//! A relay that runs two separate ZRTP sessions (Alice <-> M, M <-> Bob) gets both to Secure,
//! but Alice and Bob read different SAS values: comparing them aloud exposes the relay.

mod zrtp_session_net;

use std::time::Duration;

use sipher::zrtp::algorithms::{CipherAlgorithm, KeyAgreement, SasType};
use zrtp_session_net::{assert_secure_pair, config, Net};

#[test]
fn alice_and_bob_see_different_sas_values_through_a_relay() {
    for (seed, sas) in [
        (1, SasType::B32),
        (2, SasType::B256),
        (3, SasType::B32),
        (4, SasType::B256),
    ] {
        let cfg = |zid| config(zid, KeyAgreement::X255, CipherAlgorithm::Aes1, sas);
        // 0 = Alice, 1 = M facing Alice, 2 = M facing Bob, 3 = Bob.
        let mut net = Net::new(
            vec![cfg(0xa), cfg(0xc), cfg(0xd), cfg(0xb)],
            &[(0, 1), (2, 3)],
            seed,
        );
        net.run(Duration::from_secs(30));
        let (alice, _) = assert_secure_pair(&net, 0, 1);
        let (_, bob) = assert_secure_pair(&net, 2, 3);
        assert_ne!(alice.sas, bob.sas, "seed {seed}");
        assert_ne!(alice.local_srtp, bob.remote_srtp);
    }
}
