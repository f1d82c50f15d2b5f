//! State that outlives a config swap, keyed by stable ids: a compile looks its pieces up
//! here instead of starting them afresh, so a new snapshot does not refill a token bucket
//! or forget what the control plane said about this node's share of a limit.
pub mod throttle;

pub use throttle::{ThrottleRegistry, TokenBucket};

/// Everything that outlives a swap, one per node. The control plane's admission check
/// compiles with a throwaway one.
#[derive(Debug, Default)]
pub struct Runtime {
    pub throttle: ThrottleRegistry,
}
