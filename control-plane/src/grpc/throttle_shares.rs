//! Dividing cluster-wide throttle limits between proxy nodes.
//!
//! A stage's `ThrottlingRateLimit` and `ThrottlingBurstLimit` are totals for the whole
//! fleet. Each node reports what its throttled routes saw (`LoadReport`); every replica
//! records that in the store, so it knows the load of every node, whichever replica they
//! are connected to. A node's share of a limit is its part of the demand on it, with a
//! small floor so that a node with no traffic yet can admit its first requests, and the
//! shares of a limit always add up to one. A limit nobody is using is split evenly.
use std::collections::{BTreeMap, BTreeSet};

use portico_proto::{LimitShare, ThrottleShares};

use crate::store::NodeLoad;

/// The part of a limit spread evenly over all nodes whatever their load: 5 % of the
/// total, so the busiest node is never more than that short of the whole limit.
const FLOOR: f64 = 0.05;

/// Shares that moved less than this are not sent again.
pub const SHARE_CHANGE: f64 = 0.01;

/// `node`'s share of every limit any node is using, out of the nodes in `loads` (which
/// should include `node` itself).
pub fn shares_for(node: &str, loads: &[NodeLoad]) -> ThrottleShares {
    let nodes = loads.len().max(1);
    let keys: BTreeSet<&str> = loads
        .iter()
        .flat_map(|l| l.load.keys().map(String::as_str))
        .collect();
    let own = loads.iter().find(|l| l.node_id == node);
    let shares = keys
        .into_iter()
        .map(|key| {
            let demand = |l: &NodeLoad| l.load.get(key).copied().unwrap_or(0.0).max(0.0);
            let total: f64 = loads.iter().map(demand).sum();
            let mine = own.map(demand).unwrap_or(0.0);
            let share = if total <= 0.0 {
                1.0 / nodes as f64
            } else {
                (mine + FLOOR * total / nodes as f64) / (total * (1.0 + FLOOR))
            };
            LimitShare {
                limit_key: key.to_string(),
                share,
            }
        })
        .collect();
    ThrottleShares {
        nodes: nodes as u32,
        shares,
    }
}

/// Whether `next` differs enough from what was sent last to be worth sending.
pub fn worth_sending(last: Option<&ThrottleShares>, next: &ThrottleShares) -> bool {
    let Some(last) = last else {
        return true;
    };
    if last.nodes != next.nodes || last.shares.len() != next.shares.len() {
        return true;
    }
    let before: BTreeMap<&str, f64> = last
        .shares
        .iter()
        .map(|s| (s.limit_key.as_str(), s.share))
        .collect();
    next.shares.iter().any(|s| {
        before
            .get(s.limit_key.as_str())
            .is_none_or(|b| (b - s.share).abs() >= SHARE_CHANGE)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(node: &str, entries: &[(&str, f64)]) -> NodeLoad {
        NodeLoad {
            node_id: node.into(),
            load: entries.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    fn share(s: &ThrottleShares, key: &str) -> f64 {
        s.shares
            .iter()
            .find(|s| s.limit_key == key)
            .map(|s| s.share)
            .unwrap_or(1.0 / f64::from(s.nodes))
    }

    #[test]
    fn even_traffic_gets_even_shares() {
        let loads = [
            load("a", &[("k", 100.0)]),
            load("b", &[("k", 100.0)]),
            load("c", &[("k", 100.0)]),
        ];
        for n in ["a", "b", "c"] {
            assert!((share(&shares_for(n, &loads), "k") - 1.0 / 3.0).abs() < 1e-9);
        }
    }

    #[test]
    fn shares_follow_the_traffic_and_add_up_to_one() {
        let loads = [
            load("a", &[("k", 300.0)]),
            load("b", &[]),
            load("c", &[("k", 0.0), ("other", 5.0)]),
        ];
        let total: f64 = ["a", "b", "c"]
            .iter()
            .map(|n| share(&shares_for(n, &loads), "k"))
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        let a = share(&shares_for("a", &loads), "k");
        assert!(a > 0.96 && a < 0.97, "{a}");
        // Idle nodes keep a little, so their first requests are not all refused.
        let b = share(&shares_for("b", &loads), "k");
        assert!(b > 0.0 && b < 0.02, "{b}");
        // A limit only c uses is c's, less the floor.
        assert!(share(&shares_for("c", &loads), "other") > 0.96);
    }

    #[test]
    fn nodes_that_join_or_leave_change_the_split() {
        let two = [load("a", &[]), load("b", &[])];
        let s = shares_for("a", &two);
        assert_eq!(s.nodes, 2);
        assert!(s.shares.is_empty(), "an unused limit is 1 / nodes");
        let three = [load("a", &[]), load("b", &[]), load("c", &[])];
        assert!(worth_sending(Some(&s), &shares_for("a", &three)));
        assert!(!worth_sending(Some(&s), &shares_for("a", &two)));
        assert!(worth_sending(None, &s));
    }
}
