//! Throttle: the stage's limit on the matched route (its route settings over the stage's
//! defaults), counted against this node's share of the cluster-wide total. Over the limit
//! the request ends here with AWS's 429, and the backend never sees it.

use crate::proxy::context::{Matched, RequestContext};
use crate::proxy::error::ProxyError;

pub fn throttle(ctx: &RequestContext<'_>, matched: Matched<'_>) -> Result<(), ProxyError> {
    let Some(limit) = matched.stage.limit_for(matched.route) else {
        return Ok(());
    };
    if limit.bucket.try_acquire(limit.limit, ctx.received_at) {
        Ok(())
    } else {
        Err(ProxyError::Throttled(limit.bucket.clone()))
    }
}
