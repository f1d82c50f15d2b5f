//! What the phases share about one request: the client's connection, worked out once
//! when it connects, and what each phase has learnt, borrowed from the config the request
//! loaded.

use std::fmt::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use std::sync::Arc;

use http::{HeaderValue, Method, Uri, Version};
use portico_model::ContextVar;
use serde_json::Value;

use super::client_tls::{ClientCert, ClientTls};
use super::phases::cors::ResponseCors;
use super::request_id::RequestId;
use super::request_time;
use super::trace_context::TraceContext;
use crate::config::route_table::RouteEntry;
use crate::config::{CompiledApi, CompiledConfig, CompiledStage};
use crate::integrations::lambda::authorizer::AuthorizerAnswer;
use crate::runtime::jwks::VerifiedToken;

/// The client's connection, as worked out once when it connects rather than per request.
#[derive(Debug)]
pub struct ClientConnection {
    pub addr: SocketAddr,
    /// The client's address as `X-Forwarded-For` carries it.
    pub forwarded_for: HeaderValue,
    /// `None` on the plain-HTTP listener.
    pub tls: Option<ClientTls>,
}

impl ClientConnection {
    pub fn new(addr: SocketAddr, tls: Option<ClientTls>) -> Self {
        let ip = addr.ip().to_canonical().to_string();
        ClientConnection {
            addr,
            tls,
            // An address always makes a valid header value.
            forwarded_for: HeaderValue::try_from(ip)
                .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
        }
    }
}

/// What resolve found, set once: every phase after it takes this, never an `Option`.
#[derive(Debug, Clone, Copy)]
pub struct Matched<'cfg> {
    pub api: &'cfg CompiledApi,
    pub stage: &'cfg CompiledStage,
    pub route: &'cfg RouteEntry,
}

/// Who the authorize phase found the caller to be, for `$context.authorizer.*`,
/// `$context.identity.*` and the Lambda event's `requestContext.authorizer`.
#[derive(Debug)]
pub enum Authorized {
    /// The token as verified, shared with the issuer's cache of verified tokens.
    Jwt(Arc<VerifiedToken>),
    Lambda(Arc<AuthorizerAnswer>),
    Iam {
        access_key: String,
        user: String,
    },
}

impl Authorized {
    /// `$context.authorizer.claims.NAME` (JWT) or `$context.authorizer.NAME` (Lambda
    /// context, `principalId`), appended to `out` as text; `false` when there is none.
    pub fn write_value(&self, claim: bool, name: &str, out: &mut String) -> bool {
        let value = match (self, claim) {
            (Authorized::Jwt(token), true) => token.claims.get(name),
            (Authorized::Lambda(answer), false) => {
                if name == "principalId"
                    && let Some(p) = answer.principal_id()
                {
                    out.push_str(p);
                    return true;
                }
                answer.context().get(name)
            }
            _ => None,
        };
        match value {
            Some(v) => {
                write_json_text(v, out);
                true
            }
            None => false,
        }
    }
}

/// A JSON value as the text AWS puts in a header or an event's string field: a string
/// as itself, anything else as its JSON.
pub fn write_json_text(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// One request's context, from the moment its config is loaded to its response.
#[derive(Debug)]
pub struct RequestContext<'cfg> {
    pub client: &'cfg ClientConnection,
    pub request_id: RequestId,
    pub received_at: Instant,
    pub config_version: u64,
    /// `None` until resolve has matched a route; respond and log read it for requests
    /// that ended before (a 404 has no route).
    pub matched: Option<Matched<'cfg>>,
    /// Set when the stage's deployment has CORS: respond puts the API's CORS headers on
    /// whatever the answer is.
    pub cors: Option<ResponseCors<'cfg>>,
    /// Set by authorize on a guarded route.
    pub authorized: Option<Authorized>,
    /// The stage resolve found, also for requests that then match no route.
    pub stage: Option<(&'cfg CompiledApi, &'cfg CompiledStage)>,
    /// The API mapping key of a custom domain the request came through.
    pub base_path: Option<&'cfg str>,
    pub trace: TraceContext,
    /// When the authorizer ran and how long it took, on a guarded route.
    pub authorizer_timing: Option<(Instant, Duration)>,
    /// What the integration call took and answered, once it has been made.
    pub integration: Option<IntegrationTiming>,
    /// The request body's declared length, for data-processed figures.
    pub bytes_in: u64,
}

/// The integration call, for `$context.integrationLatency`, metrics and spans.
#[derive(Debug, Clone, Copy)]
pub struct IntegrationTiming {
    pub started: Instant,
    pub latency: Duration,
    /// `None` when no response came.
    pub status: Option<u16>,
}

/// What `$context` variables read of the request, kept past the point where the request
/// itself has moved on to the integration.
#[derive(Debug)]
pub struct RequestFacts<'r> {
    pub method: Method,
    pub uri: &'r Uri,
    /// The host the client named, port and all.
    pub host: Option<&'r str>,
    pub version: Version,
    pub user_agent: Option<HeaderValue>,
}

impl<'cfg> RequestContext<'cfg> {
    pub fn new(
        client: &'cfg ClientConnection,
        config: &'cfg CompiledConfig,
        trace: TraceContext,
    ) -> Self {
        RequestContext {
            client,
            request_id: RequestId::new(),
            received_at: Instant::now(),
            config_version: config.version,
            matched: None,
            cors: None,
            authorized: None,
            stage: None,
            base_path: None,
            trace,
            authorizer_timing: None,
            integration: None,
            bytes_in: 0,
        }
    }

    /// When the request arrived, by the wall clock: the access log renders its line at
    /// the response head, which a slow backend can put seconds later.
    pub fn received_at_wall(&self) -> SystemTime {
        SystemTime::now() - self.received_at.elapsed()
    }

    /// The mutual-TLS client certificate this request's connection presented.
    pub fn client_cert(&self) -> Option<&ClientCert> {
        self.client.tls.as_ref()?.client_cert.as_ref()
    }

    /// Appends `$context.{var}` to `out`, as AWS defines each variable for HTTP APIs.
    /// `$context.accountId` is empty: a self-hosted gateway belongs to no AWS account.
    pub fn write_variable(
        &self,
        var: ContextVar,
        matched: Matched<'_>,
        facts: &RequestFacts<'_>,
        out: &mut String,
    ) {
        match var {
            ContextVar::RouteKey => {
                let _ = write!(out, "{}", matched.route.key);
            }
            ContextVar::Stage => out.push_str(&matched.stage.name),
            ContextVar::ApiId => out.push_str(&matched.api.api_id),
            other => self.write_request_variable(other, facts, out),
        }
    }

    /// Appends a `$context` variable that does not depend on the matched route;
    /// `RouteKey`, `Stage` and `ApiId` write nothing here.
    pub fn write_request_variable(
        &self,
        var: ContextVar,
        facts: &RequestFacts<'_>,
        out: &mut String,
    ) {
        match var {
            ContextVar::RouteKey | ContextVar::Stage | ContextVar::ApiId => {}
            ContextVar::RequestId | ContextVar::ExtendedRequestId => {
                out.push_str(self.request_id.as_str())
            }
            ContextVar::AccountId => {}
            ContextVar::DomainName | ContextVar::DomainPrefix => {
                let name = crate::config::strip_port(facts.host.unwrap_or(""));
                if var == ContextVar::DomainName {
                    out.push_str(name);
                } else {
                    out.push_str(name.split('.').next().unwrap_or(""));
                }
            }
            ContextVar::HttpMethod => out.push_str(facts.method.as_str()),
            ContextVar::Path => out.push_str(facts.uri.path()),
            ContextVar::Protocol => out.push_str(match facts.version {
                Version::HTTP_2 => "HTTP/2.0",
                Version::HTTP_10 => "HTTP/1.0",
                _ => "HTTP/1.1",
            }),
            ContextVar::SourceIp => {
                let _ = write!(out, "{}", self.client.addr.ip().to_canonical());
            }
            ContextVar::UserAgent => {
                if let Some(ua) = facts.user_agent.as_ref().and_then(|v| v.to_str().ok()) {
                    out.push_str(ua);
                }
            }
            ContextVar::RequestTime => request_time::write_clf(out, self.received_at_wall()),
            ContextVar::RequestTimeEpoch => {
                let _ = write!(
                    out,
                    "{}",
                    request_time::epoch_millis(self.received_at_wall())
                );
            }
            ContextVar::ClientCertPem
            | ContextVar::ClientCertSubjectDn
            | ContextVar::ClientCertIssuerDn
            | ContextVar::ClientCertSerialNumber
            | ContextVar::ClientCertNotBefore
            | ContextVar::ClientCertNotAfter => {
                if let Some(cert) = self.client_cert() {
                    out.push_str(match var {
                        ContextVar::ClientCertPem => &cert.pem,
                        ContextVar::ClientCertSubjectDn => &cert.subject_dn,
                        ContextVar::ClientCertIssuerDn => &cert.issuer_dn,
                        ContextVar::ClientCertSerialNumber => &cert.serial_number,
                        ContextVar::ClientCertNotBefore => &cert.not_before,
                        _ => &cert.not_after,
                    });
                }
            }
            ContextVar::IdentityAccessKey | ContextVar::IdentityUser => {
                if let Some(Authorized::Iam { access_key, user }) = &self.authorized {
                    out.push_str(if var == ContextVar::IdentityAccessKey {
                        access_key
                    } else {
                        user
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// X-Forwarded-For carries the client's address as IPv4 when it arrived IPv4-mapped
    /// on a dual-stack socket.
    #[test]
    fn the_client_address_is_worked_out_once() {
        let forwarded =
            |addr: &str| ClientConnection::new(addr.parse().expect("address"), None).forwarded_for;
        assert_eq!(forwarded("10.0.0.1:1"), "10.0.0.1");
        assert_eq!(forwarded("[::ffff:10.0.0.2]:2"), "10.0.0.2");
        assert_eq!(forwarded("[2001:db8::1]:3"), "2001:db8::1");
    }
}
