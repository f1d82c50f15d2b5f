//! Which endpoint of a VPC link gets the next request. Both policies are nginx's smooth
//! weighted round robin, which interleaves (weights 5,1,1 give a a b a c a a, not a a a a a
//! b c) and is exact over every cycle of the weights' sum:
//! - `ROUND_ROBIN`: each endpoint's configured weight;
//! - `LEAST_REQUEST`: the weight divided by the requests the endpoint has in flight, plus
//!   one (Envoy's weighted least request), so with nothing in flight it spreads by weight
//!   and a slow endpoint that piles up requests gets fewer new ones.
//!
//! Endpoints that may not serve (unhealthy, ejected, already tried by this request) have
//! weight 0 and are skipped.

/// Fixed-point scale for `LEAST_REQUEST`'s weight / (in flight + 1).
const LEAST_REQUEST_SCALE: u64 = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    RoundRobin,
    LeastRequest,
}

impl Policy {
    /// The weight an endpoint competes with now.
    pub fn effective_weight(self, weight: u32, in_flight: u32) -> u64 {
        match self {
            Policy::RoundRobin => u64::from(weight),
            Policy::LeastRequest => {
                u64::from(weight) * LEAST_REQUEST_SCALE / (u64::from(in_flight) + 1)
            }
        }
    }
}

/// The running state of smooth weighted round robin over one list of endpoints.
#[derive(Debug, Default)]
pub struct SmoothWeighted {
    current: Vec<i64>,
}

impl SmoothWeighted {
    /// Picks one of `n` endpoints; `weight(i)` is 0 for one that may not serve. The state
    /// starts over when the list changes length (the caller also resets it when the list
    /// is replaced).
    pub fn pick(&mut self, n: usize, weight: impl Fn(usize) -> u64) -> Option<usize> {
        if self.current.len() != n {
            self.reset(n);
        }
        let mut total: i64 = 0;
        let mut best: Option<usize> = None;
        for i in 0..n {
            let w = weight(i);
            if w == 0 {
                continue;
            }
            let w = i64::try_from(w).unwrap_or(i64::MAX / 1024);
            self.current[i] = self.current[i].saturating_add(w);
            total = total.saturating_add(w);
            if best.is_none_or(|b| self.current[i] > self.current[b]) {
                best = Some(i);
            }
        }
        let b = best?;
        self.current[b] = self.current[b].saturating_sub(total);
        Some(b)
    }

    pub fn reset(&mut self, n: usize) {
        self.current.clear();
        self.current.resize(n, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(picks: usize, weights: &[u64]) -> Vec<usize> {
        let mut b = SmoothWeighted::default();
        let mut counts = vec![0; weights.len()];
        for _ in 0..picks {
            let i = b.pick(weights.len(), |i| weights[i]).expect("one serves");
            counts[i] += 1;
        }
        counts
    }

    #[test]
    fn round_robin_is_exact_by_weight_and_interleaves() {
        assert_eq!(spread(600, &[1, 2, 3]), [100, 200, 300]);
        assert_eq!(spread(3, &[1, 1, 1]), [1, 1, 1]);
        let mut b = SmoothWeighted::default();
        let order: Vec<usize> = (0..7)
            .map(|_| b.pick(3, |i| [5, 1, 1][i]).expect("pick"))
            .collect();
        assert_eq!(order, [0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn endpoints_that_may_not_serve_are_skipped() {
        assert_eq!(spread(10, &[1, 0, 1]), [5, 0, 5]);
        let mut b = SmoothWeighted::default();
        assert_eq!(b.pick(2, |_| 0), None);
        assert_eq!(b.pick(0, |_| 1), None);
    }

    #[test]
    fn least_request_favours_idle_endpoints_by_weight() {
        let p = Policy::LeastRequest;
        // Nothing in flight: the weights alone.
        let idle: Vec<u64> = [1, 2, 3]
            .iter()
            .map(|w| p.effective_weight(*w, 0))
            .collect();
        assert_eq!(spread(600, &idle), [100, 200, 300]);
        // The heavy endpoint with 5 in flight competes as weight 3/6 = 0.5.
        let busy = [
            p.effective_weight(1, 0),
            p.effective_weight(1, 0),
            p.effective_weight(3, 5),
        ];
        assert_eq!(spread(500, &busy), [200, 200, 100]);
        assert_eq!(Policy::RoundRobin.effective_weight(3, 5), 3);
    }
}
