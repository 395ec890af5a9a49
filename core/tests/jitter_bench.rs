//! The jitter buffer over 3G-like profiles, as a table (not a test of speed; run with
//! `cargo test --release --test jitter_bench -- --ignored --nocapture`). Each row is 5 minutes of
//! speech, averaged over 3 seeds and 4 receiver phases (where the pops fall in the sender's
//! 20 ms grid decides which whole-frame delays exist).
mod jitter_netem;
use jitter_netem::{percentile, run, Loss, Profile};

#[test]
#[ignore = "prints a measurement table"]
fn jitter_bench_table() {
    let mut bad = Profile::new("3G bad ±40 ms + 9 % bursty loss", 20.0, 15_000);
    bad.loss = Loss::GilbertElliott { p: 0.03, r: 0.3 };
    let profiles = [
        Profile::new("clean", 0.0, 15_000),
        Profile::new("3G good ±10 ms", 5.0, 15_000),
        Profile::new("3G typical ±20 ms", 10.0, 15_000),
        Profile::new("netem 100ms 20ms (±40 ms)", 20.0, 15_000),
        bad,
    ];
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>7} {:>7} {:>11}",
        "profile", "added p50", "added p95", "worst p95", "late %", "lost %", "concealed %"
    );
    for profile in &profiles {
        let (mut delays, mut p95s) = (Vec::new(), Vec::new());
        let (mut late, mut lost, mut concealed, mut sent) = (0, 0, 0, 0);
        for seed in 1..=3 {
            for phase_us in [0, 5_000, 10_000, 15_000] {
                let o = run(profile, seed, phase_us);
                p95s.push(o.added_delay_percentile(0.95));
                delays.extend_from_slice(&o.added_delay_ms);
                late += o.stats.late;
                lost += o.stats.lost;
                concealed += o.stats.concealed;
                sent += o.sent;
            }
        }
        let pct = |n: u64| 100.0 * n as f64 / sent as f64;
        println!(
            "{:<34} {:>9.1} {:>9.1} {:>9.1} {:>7.2} {:>7.2} {:>11.2}",
            profile.name,
            percentile(&delays, 0.5),
            percentile(&delays, 0.95),
            percentile(&p95s, 1.0),
            pct(late),
            pct(lost),
            pct(concealed)
        );
    }
    println!("added delay: ms over the nominal 100 ms one-way delay, per played frame");
}
