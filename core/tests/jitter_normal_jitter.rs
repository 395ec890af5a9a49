//! netem "100ms 20ms" (normal jitter, sd 20 ms, so about ±40 ms): the buffer settles near the
//! p98 of the transit, adding at most 60 ms over the nominal delay with under 1 % late.
mod jitter_netem;
use jitter_netem::{run, Profile};

#[test]
fn normal_jitter_sd20_adds_at_most_60ms_with_under_1pct_late() {
    // 5 minutes; the receiver's pops fall mid-way in the sender's 20 ms grid (the phase decides
    // which whole-frame delays are available, see jitter_bench for every phase).
    let profile = Profile::new("netem 100ms 20ms", 20.0, 15_000);
    for seed in 1..=3 {
        let o = run(&profile, seed, 10_000);
        let p95 = o.added_delay_percentile(0.95);
        let late = o.pct(o.stats.late);
        assert!(p95 <= 60.0, "seed {seed}: added delay p95 {p95} ms");
        assert!(late <= 1.0, "seed {seed}: {late} % late");
        assert_eq!(o.stats.lost, 0, "seed {seed}: nothing was lost on the link");
        assert!(
            o.stats.played as f64 >= 0.985 * o.sent as f64,
            "seed {seed}: {:?}",
            o.stats
        );
    }
}

#[test]
fn jitter_increase_is_followed_within_a_second() {
    // 20 s of a clean link, then the jitter jumps to sd 20 ms.
    let mut clean = Profile::new("clean then jittery", 0.0, 1000);
    clean.frames = 1000;
    let calm = run(&clean, 7, 10_000);
    let jittery = run(&Profile::new("jittery", 20.0, 1000), 7, 10_000);
    assert!(
        calm.added_delay_percentile(0.95) <= 30.0,
        "clean link keeps the minimum delay"
    );
    // The first second of jitter costs some late packets, then the buffer has grown.
    let early_late = jittery.pct(jittery.stats.late);
    assert!(early_late <= 3.0, "{early_late} % late in the first 20 s");
    let settled: Vec<f64> = jittery
        .delay_trace
        .iter()
        .filter(|t| t.0 > 2_000_000)
        .map(|t| t.1)
        .collect();
    assert!(
        jitter_netem::percentile(&settled, 0.05) >= 30.0,
        "the delay grew for the jitter"
    );
}
