//! A stage's throttling as the request path uses it: for each route, the limit that
//! applies (its route settings over the stage's defaults, field by field, as AWS
//! resolves them) and the runtime bucket that counts against it.
use std::sync::Arc;

use portico_proto::Stage;

use super::route_table::RouteTable;
use crate::runtime::throttle::{Limit, ThrottleRegistry, TokenBucket};

#[derive(Debug, Clone)]
pub struct RouteLimit {
    pub limit: Limit,
    pub bucket: Arc<TokenBucket>,
}

/// The stable id of a route's bucket, the same on every node and in every snapshot.
pub fn limit_key(api_id: &str, stage: &str, route_key: &str) -> String {
    format!("{api_id}/{stage}/{route_key}")
}

/// One entry per route of `routes`, in index order; `None` where nothing limits it. A
/// stage with no throttling at all gets no entries, and costs a compile nothing per route.
pub fn stage_limits(
    stage: &Stage,
    routes: &RouteTable,
    registry: &ThrottleRegistry,
) -> Box<[Option<RouteLimit>]> {
    let default = stage.default_throttle.as_ref();
    if default.is_none() && stage.route_throttles.is_empty() {
        return Box::default();
    }
    routes
        .entries()
        .iter()
        .map(|entry| {
            let route_key = entry.key.to_string();
            let own = stage.route_throttles.get(&route_key);
            let rate = own
                .and_then(|t| t.rate_limit)
                .or(default.and_then(|t| t.rate_limit));
            let burst = own
                .and_then(|t| t.burst_limit)
                .or(default.and_then(|t| t.burst_limit));
            let limit = Limit::new(rate, burst)?;
            let bucket = registry.bucket(&limit_key(&stage.api_id, &stage.stage_name, &route_key));
            Some(RouteLimit { limit, bucket })
        })
        .collect()
}
