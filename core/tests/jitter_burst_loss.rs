//! Bursts of lost packets are counted lost, concealed (with the next packet offered for FEC), and
//! playback carries on; bursty 3G loss does not disturb the delay.
mod jitter_netem;
use jitter_netem::{run, Loss, Profile};

#[test]
fn bursts_of_five_are_counted_lost_and_playback_continues() {
    let mut profile = Profile::new("bursts", 5.0, 5_050);
    profile.loss = Loss::Bursts { every: 100, len: 5 };
    let o = run(&profile, 3, 10_000);
    let s = &o.stats;
    assert_eq!(s.lost, 250, "{s:?}");
    assert_eq!(
        s.played,
        5_050 - 250,
        "every packet that arrived was played: {s:?}"
    );
    // Each burst: five concealments, the last one with the packet after it for FEC.
    assert!(s.concealed >= 250 && s.concealed <= 260, "{s:?}");
    // ...unless that packet has not arrived yet either (a couple of times with this jitter).
    assert!(o.missing_with_fec >= 45, "{}", o.missing_with_fec);
    assert!(
        o.max_current_delay.as_millis() < 120,
        "{:?}",
        o.max_current_delay
    );
}

#[test]
fn gilbert_elliott_loss_is_counted_and_not_taken_for_jitter() {
    let mut profile = Profile::new("GE 9%", 10.0, 10_000);
    profile.loss = Loss::GilbertElliott { p: 0.03, r: 0.3 };
    let o = run(&profile, 5, 10_000);
    let s = &o.stats;
    let lost = o.pct(s.lost);
    assert!((6.0..12.0).contains(&lost), "{lost} % lost: {s:?}");
    assert_eq!(
        s.played + s.lost + s.late + s.dropped,
        o.sent,
        "every frame accounted: {s:?}"
    );
    assert!(
        o.added_delay_percentile(0.95) <= 50.0,
        "loss must not inflate the delay"
    );
}
