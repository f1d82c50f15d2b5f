use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use portico_proto::config_service_server::ConfigService;
use portico_proto::{ControlMessage, NodeHello, NodeMessage, node_message};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::node_session::NodeSession;
use crate::snapshot::PublishedSnapshot;
use crate::store::Store;

/// How long a node may take to say hello after opening the stream.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ConfigStreamService {
    snapshots: watch::Receiver<Option<Arc<PublishedSnapshot>>>,
    invoke_keys: watch::Receiver<Arc<portico_proto::InvokeKeys>>,
    store: Store,
    cluster_token: String,
    replica_id: String,
    /// True once the replica is shutting down: sessions end, new streams are refused.
    closing: watch::Receiver<bool>,
}

impl ConfigStreamService {
    pub fn new(
        snapshots: watch::Receiver<Option<Arc<PublishedSnapshot>>>,
        invoke_keys: watch::Receiver<Arc<portico_proto::InvokeKeys>>,
        store: Store,
        cluster_token: String,
        replica_id: String,
        closing: watch::Receiver<bool>,
    ) -> Self {
        ConfigStreamService {
            snapshots,
            invoke_keys,
            store,
            cluster_token,
            replica_id,
            closing,
        }
    }

    fn authenticate<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| Status::unauthenticated("missing cluster token"))?;
        if bool::from(presented.as_bytes().ct_eq(self.cluster_token.as_bytes())) {
            Ok(())
        } else {
            Err(Status::unauthenticated("invalid cluster token"))
        }
    }
}

fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

#[tonic::async_trait]
impl ConfigService for ConfigStreamService {
    type StreamConfigStream = Pin<Box<dyn Stream<Item = Result<ControlMessage, Status>> + Send>>;

    async fn stream_config(
        &self,
        request: Request<Streaming<NodeMessage>>,
    ) -> Result<Response<Self::StreamConfigStream>, Status> {
        self.authenticate(&request)?;
        if *self.closing.borrow() {
            return Err(Status::unavailable(
                "this control-plane replica is shutting down; try another",
            ));
        }
        let peer = request.remote_addr();
        let mut inbound = request.into_inner();
        let hello = match tokio::time::timeout(HELLO_TIMEOUT, inbound.message()).await {
            Ok(Ok(Some(NodeMessage {
                kind: Some(node_message::Kind::Hello(hello)),
            }))) => hello,
            Ok(Err(status)) => return Err(status),
            Err(_) => return Err(Status::deadline_exceeded("no NodeHello within 10 s")),
            Ok(_) => {
                return Err(Status::invalid_argument(
                    "the first message must be NodeHello",
                ));
            }
        };
        if !valid_node_id(&hello.node_id) {
            return Err(Status::invalid_argument(
                "node_id must be 1 to 128 letters, digits, '-', '_', '.' or ':'",
            ));
        }
        tracing::info!(node = %hello.node_id, ?peer, serving = hello.serving_version, "node connected");
        let hello = NodeHello {
            address: routable_address(&hello.address, peer),
            ..hello
        };
        let (outbound, rx) = mpsc::channel(4);
        let session = NodeSession::new(
            hello,
            self.store.clone(),
            self.replica_id.clone(),
            self.snapshots.clone(),
            self.invoke_keys.clone(),
        );
        tokio::spawn(session.run(inbound, outbound, self.closing.clone()));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// A node listening on every interface reports `0.0.0.0:port` (or `[::]:port`); the
/// address it connected from is where the operator and the Test panel can reach it.
fn routable_address(reported: &str, peer: Option<std::net::SocketAddr>) -> String {
    match (reported.parse::<std::net::SocketAddr>(), peer) {
        (Ok(mut addr), Some(peer)) if addr.ip().is_unspecified() => {
            addr.set_ip(peer.ip().to_canonical());
            addr.to_string()
        }
        _ => reported.to_owned(),
    }
}

#[cfg(test)]
mod routable_address_tests {
    use super::routable_address;

    #[test]
    fn unspecified_addresses_take_the_peer_ip() {
        let peer = Some("10.1.2.3:53211".parse().unwrap());
        assert_eq!(routable_address("0.0.0.0:8000", peer), "10.1.2.3:8000");
        assert_eq!(routable_address("[::]:8000", peer), "10.1.2.3:8000");
        assert_eq!(routable_address("10.9.9.9:8000", peer), "10.9.9.9:8000");
        assert_eq!(routable_address("0.0.0.0:8000", None), "0.0.0.0:8000");
        let mapped = Some("[::ffff:10.1.2.3]:1".parse().unwrap());
        assert_eq!(routable_address("[::]:8000", mapped), "10.1.2.3:8000");
    }
}
