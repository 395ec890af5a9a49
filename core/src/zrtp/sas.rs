//! Short Authentication String rendering (RFC 6189 §5.1.6).

use super::algorithms::SasType;
use super::pgp_words::{EVEN_WORDS, ODD_WORDS};

/// The z-base-32 alphabet used by B32 (chosen to avoid characters that read alike).
const ZBASE32: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// Render the SAS from sashash in the negotiated scheme.
pub fn render(rendering: SasType, sas_hash: &[u8; 32]) -> String {
    let value = u32::from_be_bytes([sas_hash[0], sas_hash[1], sas_hash[2], sas_hash[3]]);
    match rendering {
        SasType::B32 => base32(value),
        SasType::B256 => pgp_words(value),
    }
}

/// B32: the leftmost 20 bits of sasvalue as four z-base-32 characters.
pub fn base32(sas_value: u32) -> String {
    (0..4)
        .map(|i| {
            // Each index is a 5-bit field, so it is always inside the 32-entry alphabet.
            let index = (sas_value >> (27 - 5 * i)) & 0x1f;
            ZBASE32[index as usize] as char
        })
        .collect()
}

/// B256: the leftmost 16 bits of sasvalue as two PGP words, the first byte from the even list
/// and the second from the odd list, joined with ':' as bzrtp and GNU ZRTP show them.
pub fn pgp_words(sas_value: u32) -> String {
    let [first, second, _, _] = sas_value.to_be_bytes();
    format!(
        "{}:{}",
        EVEN_WORDS[usize::from(first)],
        ODD_WORDS[usize::from(second)]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_uses_only_the_leftmost_twenty_bits() {
        assert_eq!(base32(0), "yyyy");
        assert_eq!(base32(0xffff_f000), "9999");
        assert_eq!(base32(0xffff_ffff), base32(0xffff_f000));
        assert_ne!(base32(0x0000_1000), base32(0));
    }

    #[test]
    fn pgp_words_pick_even_then_odd() {
        assert_eq!(pgp_words(0x0000_0000), "aardvark:adroitness");
        assert_eq!(pgp_words(0xffff_0000), "Zulu:Yucatan");
        assert_eq!(pgp_words(0xff00_0000), "Zulu:adroitness");
    }
}
