//! From stored configuration to the snapshot proxy nodes serve: a pure, deterministic
//! function from rows to the wire snapshot (`rows_to_wire`), the check of that snapshot
//! with the node's own compiler that holds back what nodes could not serve
//! (`admission`), since which version each stage is published as it is
//! (`served_since`), the publisher that rebuilds it when the store changes and hands the
//! newest one to every node stream (`publisher`), and the Postgres change feed through
//! which replicas hear about each other's writes (`change_feed`). (The node's
//! `CompiledConfig::compile` goes the other way: wire → what requests read.)
mod admission;
mod change_feed;
mod publisher;
mod rows_to_wire;
mod served_since;

pub use admission::{DeploymentReport, PublishReport};
pub use change_feed::follow_postgres_changes;
pub use publisher::{PublisherHandle, SnapshotPublisher};
pub use rows_to_wire::{PublishedSnapshot, rows_to_wire};
pub use served_since::ServedSince;
