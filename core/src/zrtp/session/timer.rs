//! The retransmission timers of RFC 6189 §6: T1 for Hello, T2 for Commit, DHPart2, Confirm2 and
//! Error. Each interval doubles up to a cap, and the number of transmissions is bounded so a
//! silent peer ends the exchange instead of keeping us busy forever.

use std::time::{Duration, Instant};

/// One retransmission schedule (the interval, its cap and the transmission limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Wait before the first retransmission.
    pub initial: Duration,
    /// Longest wait between two transmissions.
    pub cap: Duration,
    /// Transmissions in all, the first one included.
    pub max_tries: u32,
}

/// The message being retransmitted and when it goes out next. At most one message is
/// retransmitted at a time: each one replaces the one before in the exchange.
#[derive(Debug, Clone)]
pub(super) struct Retransmit {
    /// What the message is, for timeouts reported to the user.
    pub(super) what: &'static str,
    /// The encoded message (framed anew with a fresh sequence number each time).
    pub(super) message: Vec<u8>,
    deadline: Instant,
    interval: Duration,
    schedule: Schedule,
    sent: u32,
}

/// What to do when the deadline has passed.
pub(super) enum Fire<'a> {
    /// Send this message again.
    Resend(&'a [u8]),
    /// The limit is reached: the peer did not answer.
    GiveUp,
}

impl Retransmit {
    /// A schedule for a message that was sent for the first time at `now`.
    pub(super) fn new(
        what: &'static str,
        message: Vec<u8>,
        now: Instant,
        schedule: Schedule,
    ) -> Retransmit {
        Retransmit {
            what,
            message,
            deadline: now + schedule.initial,
            interval: schedule.initial,
            schedule,
            sent: 1,
        }
    }

    /// When this timer wants [`Retransmit::fire`] called.
    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Called once the deadline has passed.
    pub(super) fn fire(&mut self, now: Instant) -> Fire<'_> {
        if self.sent >= self.schedule.max_tries {
            return Fire::GiveUp;
        }
        self.sent += 1;
        self.interval = (self.interval * 2).min(self.schedule.cap);
        self.deadline = now + self.interval;
        Fire::Resend(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // the test's virtual-time origin
    fn doubles_to_the_cap_and_gives_up_after_the_limit() {
        let t0 = Instant::now();
        let schedule = Schedule {
            initial: Duration::from_millis(50),
            cap: Duration::from_millis(200),
            max_tries: 4,
        };
        let mut r = Retransmit::new("Hello", vec![1], t0, schedule);
        let mut gaps = Vec::new();
        let mut now = r.deadline();
        gaps.push(now - t0);
        while let Fire::Resend(_) = r.fire(now) {
            gaps.push(r.deadline() - now);
            now = r.deadline();
        }
        let ms: Vec<u128> = gaps.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [50, 100, 200, 200]);
    }
}
