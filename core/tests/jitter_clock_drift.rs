//! A sender clock 1 % fast or slow for 10 minutes: the buffer neither grows nor starves.
mod jitter_netem;
use jitter_netem::{run, Profile};

fn check(drift: f64) {
    let mut profile = Profile::new("drift", 5.0, 30_000);
    profile.drift = drift;
    let o = run(&profile, 11, 10_000);
    let s = &o.stats;
    let last_minute: Vec<f64> = o
        .delay_trace
        .iter()
        .rev()
        .take(3_000)
        .map(|t| t.1)
        .collect();
    let max_all = jitter_netem::percentile(&o.added_delay_ms, 1.0);
    assert!(
        max_all <= 80.0,
        "drift {drift}: delay reached {max_all} ms ({s:?})"
    );
    assert!(
        jitter_netem::percentile(&last_minute, 0.0) >= 0.0,
        "starved: {s:?}"
    );
    assert!(
        o.max_current_delay.as_millis() <= 80,
        "{:?}",
        o.max_current_delay
    );
    assert!(o.pct(s.late) <= 1.0, "drift {drift}: {s:?}");
    // About 300 frames of adjustment over 10 minutes at 1 %; each in one direction only.
    let adjustments = if drift > 0.0 { s.shrunk } else { s.stretched };
    assert!((250..=400).contains(&adjustments), "drift {drift}: {s:?}");
    assert_eq!(s.lost, 0);
}

#[test]
fn sender_one_percent_fast_for_ten_minutes() {
    check(0.01);
}

#[test]
fn sender_one_percent_slow_for_ten_minutes() {
    check(-0.01);
}

#[test]
fn drift_during_dtx_is_absorbed_in_silence() {
    // 2 s talk spurts, 1 s silences: most adjustments happen in the silences, costing no speech.
    let mut profile = Profile::new("drift+dtx", 5.0, 30_000);
    profile.drift = 0.01;
    profile.dtx = Some((100, 50));
    let o = run(&profile, 12, 10_000);
    let s = &o.stats;
    assert_eq!(s.lost, 0, "{s:?}");
    assert!(
        s.dropped * 4 <= s.shrunk,
        "most shrinks fall in silences: {s:?}"
    );
    assert!(o.pct(s.late) <= 1.0, "{s:?}");
    assert!(s.shrunk >= 250, "{s:?}");
    assert!(
        jitter_netem::percentile(&o.added_delay_ms, 1.0) <= 80.0,
        "{s:?}"
    );
}
