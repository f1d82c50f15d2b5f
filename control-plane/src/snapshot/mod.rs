//! From stored configuration to the snapshot proxy nodes serve: a pure, deterministic
//! compiler (`compiler`) that checks what it publishes with the node's own compiler and
//! holds back what nodes could not serve (`admission`), the publisher that recompiles when the store changes and hands
//! the newest snapshot to every node stream (`publisher`), and the Postgres change feed
//! through which replicas hear about each other's writes (`change_feed`).
mod admission;
mod change_feed;
mod compiler;
mod publisher;

pub use admission::{DeploymentReport, PublishReport};
pub use change_feed::follow_postgres_changes;
pub use compiler::{CompiledSnapshot, compile};
pub use publisher::{PublisherHandle, SnapshotPublisher};
