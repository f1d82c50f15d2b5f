//! One VPC-link endpoint's health: what active checks found (a streak of successes or
//! failures against the link's thresholds, as a load balancer's target group counts them)
//! and what requests found (passive ejection: a refused connection, or a streak of 5xx
//! answers, takes the endpoint out for a back-off that doubles with each ejection in a
//! row, as Envoy's outlier detection does). Pure state: the caller passes the time, so the
//! transitions are tested without a clock.
use std::time::{Duration, Instant};

/// What active checks last concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Not checked yet (or checks are not run here): it gets traffic, so a new link serves
    /// at once; requests themselves eject it if it is down.
    Unknown,
    Healthy,
    Unhealthy,
}

/// What a node reports and the balancer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Unknown,
    Healthy,
    Unhealthy,
    Ejected,
}

impl TargetState {
    /// Whether the balancer may send it requests.
    pub fn serves(self) -> bool {
        matches!(self, TargetState::Unknown | TargetState::Healthy)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub healthy: u32,
    pub unhealthy: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ejection {
    pub consecutive_5xx: u32,
    pub base: Duration,
    pub max: Duration,
}

#[derive(Debug, Clone)]
pub struct EndpointHealth {
    checked: Checked,
    successes: u32,
    failures: u32,
    streak_5xx: u32,
    /// Ejections in a row: the next one lasts base × 2^ejections (up to max).
    ejections: u32,
    ejected_until: Option<Instant>,
    /// Why it is not healthy, for the report ("" when it is).
    reason: String,
}

impl Default for EndpointHealth {
    fn default() -> Self {
        EndpointHealth {
            checked: Checked::Unknown,
            successes: 0,
            failures: 0,
            streak_5xx: 0,
            ejections: 0,
            ejected_until: None,
            reason: String::new(),
        }
    }
}

impl EndpointHealth {
    pub fn state(&self, now: Instant) -> TargetState {
        if self.ejected_until.is_some_and(|until| until > now) {
            return TargetState::Ejected;
        }
        match self.checked {
            Checked::Unknown => TargetState::Unknown,
            Checked::Healthy => TargetState::Healthy,
            Checked::Unhealthy => TargetState::Unhealthy,
        }
    }

    pub fn reason(&self, now: Instant) -> &str {
        match self.state(now) {
            TargetState::Healthy | TargetState::Unknown => "",
            _ => &self.reason,
        }
    }

    pub fn checked(&self) -> Checked {
        self.checked
    }

    /// When an ejection ends, if one is in force.
    pub fn ejected_until(&self) -> Option<Instant> {
        self.ejected_until
    }

    /// One active check's outcome. Unknown turns healthy on the first success; otherwise
    /// it takes `healthy` successes in a row to come back and `unhealthy` failures in a
    /// row to go.
    pub fn on_check(&mut self, outcome: Result<(), String>, t: Thresholds) {
        match outcome {
            Ok(()) => {
                self.failures = 0;
                self.successes = self.successes.saturating_add(1);
                if self.checked == Checked::Unknown || self.successes >= t.healthy {
                    self.checked = Checked::Healthy;
                }
            }
            Err(reason) => {
                self.successes = 0;
                self.failures = self.failures.saturating_add(1);
                if self.failures >= t.unhealthy {
                    self.checked = Checked::Unhealthy;
                }
                self.reason = reason;
            }
        }
    }

    /// A request's response head came back with `status`.
    pub fn on_response(&mut self, status: u16, now: Instant, e: Ejection) {
        if status >= 500 {
            self.streak_5xx = self.streak_5xx.saturating_add(1);
            if self.streak_5xx >= e.consecutive_5xx {
                self.eject(now, e, format!("{} 5xx answers in a row", self.streak_5xx));
            }
            return;
        }
        self.streak_5xx = 0;
        // A good answer after an ejection has run out: the next ejection starts short.
        if self.ejected_until.is_none_or(|until| until <= now) {
            self.ejections = 0;
            self.ejected_until = None;
        }
    }

    /// A request could not connect (refused, reset, TLS failure, connect timeout).
    pub fn on_connect_failure(&mut self, reason: String, now: Instant, e: Ejection) {
        self.eject(now, e, reason);
    }

    /// Whether a 5xx streak is running (so a good answer has something to reset).
    pub fn in_5xx_streak(&self) -> bool {
        self.streak_5xx > 0 || self.ejections > 0
    }

    fn eject(&mut self, now: Instant, e: Ejection, reason: String) {
        if self.ejected_until.is_some_and(|until| until > now) {
            // Requests already on their way when it was ejected do not extend it.
            return;
        }
        let factor = 1u32.checked_shl(self.ejections).unwrap_or(u32::MAX);
        let span = e.base.saturating_mul(factor).min(e.max);
        self.ejections = self.ejections.saturating_add(1);
        self.ejected_until = Some(now + span);
        self.streak_5xx = 0;
        self.reason = reason;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        healthy: 2,
        unhealthy: 3,
    };
    const E: Ejection = Ejection {
        consecutive_5xx: 3,
        base: Duration::from_secs(10),
        max: Duration::from_secs(30),
    };

    #[test]
    fn checks_move_between_healthy_and_unhealthy_by_the_thresholds() {
        let now = Instant::now();
        let mut h = EndpointHealth::default();
        assert_eq!(h.state(now), TargetState::Unknown);
        assert!(h.state(now).serves());
        h.on_check(Ok(()), T);
        assert_eq!(h.state(now), TargetState::Healthy, "the first success");
        for n in 1..=3 {
            h.on_check(Err("connection refused".into()), T);
            let expected = if n < 3 {
                TargetState::Healthy
            } else {
                TargetState::Unhealthy
            };
            assert_eq!(h.state(now), expected, "after {n} failures");
        }
        assert_eq!(h.reason(now), "connection refused");
        assert!(!h.state(now).serves());
        h.on_check(Ok(()), T);
        assert_eq!(
            h.state(now),
            TargetState::Unhealthy,
            "one success is not enough"
        );
        h.on_check(Err("status 503".into()), T);
        h.on_check(Ok(()), T);
        assert_eq!(h.state(now), TargetState::Unhealthy, "the streak restarted");
        h.on_check(Ok(()), T);
        assert_eq!(h.state(now), TargetState::Healthy);
        assert_eq!(h.reason(now), "");
    }

    #[test]
    fn an_unknown_endpoint_needs_the_full_failure_streak() {
        let now = Instant::now();
        let mut h = EndpointHealth::default();
        h.on_check(Err("timeout".into()), T);
        h.on_check(Err("timeout".into()), T);
        assert_eq!(h.state(now), TargetState::Unknown);
        h.on_check(Err("timeout".into()), T);
        assert_eq!(h.state(now), TargetState::Unhealthy);
    }

    #[test]
    fn a_5xx_streak_ejects_and_good_answers_reset_it() {
        let now = Instant::now();
        let mut h = EndpointHealth::default();
        h.on_response(500, now, E);
        h.on_response(502, now, E);
        h.on_response(200, now, E);
        h.on_response(503, now, E);
        h.on_response(503, now, E);
        assert_eq!(
            h.state(now),
            TargetState::Unknown,
            "the 200 broke the streak"
        );
        h.on_response(504, now, E);
        assert_eq!(h.state(now), TargetState::Ejected);
        assert_eq!(h.reason(now), "3 5xx answers in a row");
        assert_eq!(h.state(now + Duration::from_secs(9)), TargetState::Ejected);
        assert_eq!(h.state(now + Duration::from_secs(10)), TargetState::Unknown);
    }

    #[test]
    fn ejections_in_a_row_back_off_up_to_the_maximum() {
        let start = Instant::now();
        let mut h = EndpointHealth::default();
        let mut now = start;
        for expected in [10, 20, 30, 30] {
            h.on_connect_failure("connection refused".into(), now, E);
            let until = h.ejected_until().expect("ejected");
            assert_eq!(until - now, Duration::from_secs(expected));
            // Failures while ejected do not extend it.
            h.on_connect_failure("connection refused".into(), now + Duration::from_secs(1), E);
            assert_eq!(h.ejected_until(), Some(until));
            now = until;
        }
        // A good answer once the ejection is over starts the back-off afresh.
        h.on_response(200, now, E);
        h.on_connect_failure("connection refused".into(), now, E);
        assert_eq!(
            h.ejected_until().expect("ejected") - now,
            Duration::from_secs(10)
        );
    }

    #[test]
    fn an_ejection_outlasts_passing_checks_and_then_follows_them() {
        let now = Instant::now();
        let mut h = EndpointHealth::default();
        h.on_check(Ok(()), T);
        h.on_connect_failure("connection reset".into(), now, E);
        h.on_check(Ok(()), T);
        assert_eq!(h.state(now + Duration::from_secs(5)), TargetState::Ejected);
        assert_eq!(h.state(now + Duration::from_secs(10)), TargetState::Healthy);
        // Checks that fail meanwhile keep it out after the ejection too.
        for _ in 0..3 {
            h.on_check(Err("connection refused".into()), T);
        }
        assert_eq!(
            h.state(now + Duration::from_secs(11)),
            TargetState::Unhealthy
        );
    }
}
