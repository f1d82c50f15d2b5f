//! The console's Test panel: one request sent through a proxy node, the way a client
//! calling the invoke URL would send it, so what the panel shows is what clients get.
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use portico_model::{
    DEFAULT_STAGE, HttpMethod, Node, TestInvokeRequest, TestInvokeResponse, ValidationError,
};

use super::{AdminService, ServiceError, ServiceResult, allow};
use crate::identity::{Caller, Permission};

/// The panel shows at most this much of a response body.
const MAX_BODY: usize = 1024 * 1024;
/// Longer than the longest integration timeout (30 s), so the node answers 504 first.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(35);

impl AdminService {
    pub async fn test_invoke(
        &self,
        caller: &Caller,
        api_id: &str,
        input: TestInvokeRequest,
    ) -> ServiceResult<TestInvokeResponse> {
        // It can send any method and body to the API's backends: an editor's act.
        allow(caller, Permission::EditApis)?;
        let method = HttpMethod::parse(&input.http_method).ok_or_else(|| {
            ValidationError::new(
                "httpMethod",
                format!("Invalid httpMethod '{}'", input.http_method),
            )
        })?;
        let path = input.path_with_query_string.trim();
        if !valid_path(path) {
            return Err(ValidationError::new(
                "pathWithQueryString",
                "pathWithQueryString must start with / and contain no spaces or '.'/'..' segments",
            )
            .into());
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &input.headers {
            let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()),
                reqwest::header::HeaderValue::from_str(value.trim()),
            ) else {
                return Err(ValidationError::new(
                    "headers",
                    format!("'{name}: {value}' is not a valid header"),
                )
                .into());
            };
            headers.append(name, value);
        }
        // Both exist, or the answer is NotFound just as for GET.
        self.get_api(caller, api_id).await?;
        self.get_stage(caller, api_id, &input.stage_name).await?;

        let nodes = self.list_nodes(caller, false).await?;
        let listed = nodes.items.into_iter().map(|n| n.node).collect();
        let node = pick_node(listed, nodes.current_version, input.node_id.as_deref())?;
        let address = reachable(&node.address);
        let prefix = if input.stage_name == DEFAULT_STAGE {
            String::new()
        } else {
            format!("/{}", input.stage_name)
        };
        let url = format!("http://{address}{prefix}{path}");
        headers.insert(
            reqwest::header::HOST,
            reqwest::header::HeaderValue::from_str(&format!("{api_id}.{}", self.endpoint().domain))
                .map_err(|_| {
                    ServiceError::BadRequest(format!("'{api_id}' is not a valid API id"))
                })?,
        );

        let unreachable = |e: reqwest::Error| {
            ServiceError::Unavailable(format!(
                "Proxy node {} at {address} did not answer: {e}",
                node.node_id
            ))
        };
        let started = Instant::now();
        let mut request = self
            .invoker
            .request(
                reqwest::Method::from_bytes(method.as_str().as_bytes())
                    .map_err(|e| ServiceError::BadRequest(e.to_string()))?,
                &url,
            )
            .headers(headers)
            .timeout(INVOKE_TIMEOUT);
        if let Some(body) = input.body {
            request = request.body(body);
        }
        tracing::info!(
            user = %caller.user_name, api = api_id, stage = %input.stage_name,
            method = method.as_str(), path, node = %node.node_id, "test invoke"
        );
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let mut multi_value_headers = BTreeMap::<String, Vec<String>>::new();
        for (name, value) in response.headers() {
            multi_value_headers
                .entry(name.as_str().to_owned())
                .or_default()
                .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
        }
        let mut body = Vec::new();
        let mut body_truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            let room = MAX_BODY - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                body_truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let elapsed = started.elapsed();
        Ok(TestInvokeResponse {
            status,
            headers: multi_value_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.join(", ")))
                .collect(),
            multi_value_headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            body_truncated,
            latency: elapsed.as_millis() as u64,
            latency_micros: elapsed.as_micros() as u64,
            node_id: node.node_id,
            url,
        })
    }
}

/// A path that stays inside the stage: URL clients fold `.` and `..` segments (also
/// percent-encoded), which would send the request to another stage.
fn valid_path(path_and_query: &str) -> bool {
    if !path_and_query.starts_with('/')
        || path_and_query
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#')
    {
        return false;
    }
    let path = path_and_query.split('?').next().unwrap_or_default();
    path.split('/').all(|segment| {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        decoded != "." && decoded != ".."
    })
}

/// The named node, or a connected one serving the current version (else the most recent).
fn pick_node(nodes: Vec<Node>, current: u64, wanted: Option<&str>) -> ServiceResult<Node> {
    if let Some(id) = wanted {
        let node = nodes
            .into_iter()
            .find(|n| n.node_id == id)
            .ok_or_else(|| ServiceError::NotFound(format!("Node {id} not found")))?;
        if !node.connected {
            return Err(ServiceError::Unavailable(format!(
                "Node {id} is not connected"
            )));
        }
        return Ok(node);
    }
    nodes
        .into_iter()
        .filter(|n| n.connected)
        .max_by_key(|n| (n.applied_version >= current, n.applied_version))
        .ok_or_else(|| {
            ServiceError::Unavailable(
                "No proxy node is connected; start one with portico-proxy".into(),
            )
        })
}

/// A node that listens on every interface is reached on loopback from here.
fn reachable(address: &str) -> String {
    match address.parse::<SocketAddr>() {
        Ok(mut a) if a.ip().is_unspecified() => {
            a.set_ip(match a.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
            a.to_string()
        }
        _ => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, version: u64, connected: bool) -> Node {
        Node {
            node_id: id.into(),
            address: "0.0.0.0:8000".into(),
            applied_version: version,
            last_status: Some("ACK".into()),
            last_error: None,
            rejected_version: None,
            connected,
            control_plane: "cp".into(),
            last_seen: String::new(),
        }
    }

    #[test]
    fn picks_a_connected_up_to_date_node() {
        let nodes = vec![node("a", 5, true), node("b", 7, true), node("c", 9, false)];
        assert_eq!(pick_node(nodes.clone(), 7, None).unwrap().node_id, "b");
        assert_eq!(pick_node(nodes.clone(), 9, None).unwrap().node_id, "b");
        assert!(matches!(
            pick_node(nodes.clone(), 7, Some("c")),
            Err(ServiceError::Unavailable(_))
        ));
        assert!(matches!(
            pick_node(nodes, 7, Some("zz")),
            Err(ServiceError::NotFound(_))
        ));
        assert!(matches!(
            pick_node(vec![], 1, None),
            Err(ServiceError::Unavailable(_))
        ));
    }

    #[test]
    fn paths_stay_inside_the_stage() {
        assert!(valid_path("/notes?x=1&y=/../z"));
        assert!(valid_path("/"));
        assert!(valid_path("/a.b/..c"));
        for bad in [
            "notes",
            "/../prod/x",
            "/a/./b",
            "/a/%2e%2E/b",
            "/a b",
            "/a#b",
            "/..",
        ] {
            assert!(!valid_path(bad), "{bad}");
        }
    }

    #[test]
    fn unspecified_addresses_become_loopback() {
        assert_eq!(reachable("0.0.0.0:8000"), "127.0.0.1:8000");
        assert_eq!(reachable("[::]:8000"), "[::1]:8000");
        assert_eq!(reachable("10.0.0.5:8000"), "10.0.0.5:8000");
        assert_eq!(reachable("proxy-1:8000"), "proxy-1:8000");
    }
}
