//! A clean link: nothing lost, nothing late, nothing concealed, and the delay stays at the minimum.
mod jitter_netem;
use jitter_netem::{run, Profile};

#[test]
fn clean_link_plays_everything_at_minimum_delay() {
    for phase_us in [0, 7_000, 19_000] {
        let o = run(&Profile::new("clean", 0.0, 3_000), 1, phase_us);
        let s = &o.stats;
        assert_eq!(
            (s.lost, s.late, s.concealed, s.dropped),
            (0, 0, 0, 0),
            "{s:?}"
        );
        assert_eq!(s.played, o.sent);
        // min_delay is 20 ms and pops come every 20 ms: between 20 and 40 ms over the transit.
        let (lo, hi) = (o.added_delay_percentile(0.0), o.added_delay_percentile(1.0));
        assert!(
            (20.0..40.0).contains(&lo) && lo == hi,
            "phase {phase_us}: {lo}..{hi} ms"
        );
        assert!(s.current_delay >= s.target_delay, "{s:?}");
        assert!(s.target_delay.as_millis() == 20, "{s:?}");
        // In order, without gaps.
        assert!(o
            .played_ts
            .windows(2)
            .all(|w| w[1] == w[0] + jitter_netem::FRAME_TS));
    }
}
