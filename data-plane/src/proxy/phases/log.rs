//! Log: the last phase, which sees every `$context` value. When the response head is
//! ready, [`begin`] renders the stage's access-log line (all but the values only known
//! at the end) and notes what the meters need; [`LoggedBody`] carries that to the end of
//! the response body, where the line is finished and queued, the route's meter counts
//! the request, and with `--otlp-endpoint` the request's spans are handed to the
//! exporter. A client that goes away mid-body ends it there.
//!
//! Values are written JSON-escaped, so a JSON format stays JSON whatever a client
//! sends; a value that is missing is `-`, as in AWS's access logs.

use std::fmt::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::Response;
use http_body::{Body, Frame, SizeHint};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use portico_model::{LogPart, LogVar};

use crate::config::access_log::CompiledAccessLog;
use crate::error_chain::ErrorChain;
use crate::proxy::body::ProxyBody;
use crate::proxy::context::{IntegrationTiming, RequestContext, RequestFacts};
use crate::proxy::error::{ErrorOrigin, ErrorSpec, ProxyError};
use crate::runtime::Runtime;
use crate::runtime::meters::{RouteMeter, Served};
use crate::runtime::span_export::FinishedSpan;
use crate::upstream::pool::BodyError;

/// Stands in the rendered line for a value only known at the end of the body. The
/// format refuses control characters and values are escaped, so it is never text.
const LATER: char = '\0';

/// What the log phase keeps of a request until its body has been sent.
#[derive(Debug)]
pub struct Finish {
    meter: Option<Arc<RouteMeter>>,
    served: Served,
    received_at: Instant,
    /// The line and where it goes, or the spans, when there is either.
    outputs: Option<Box<Outputs>>,
}

#[derive(Debug)]
struct Outputs {
    runtime: Arc<Runtime>,
    line: Option<(Arc<CompiledAccessLog>, String)>,
    spans: Option<Spans>,
}

#[derive(Debug)]
struct Spans {
    trace: crate::proxy::trace_context::TraceContext,
    authorizer: Option<(Instant, Duration)>,
    integration: Option<IntegrationTiming>,
    attributes: Vec<KeyValue>,
}

/// Everything about the request that the response head settles.
pub fn begin(
    runtime: &Arc<Runtime>,
    ctx: &RequestContext<'_>,
    facts: Option<&RequestFacts<'_>>,
    outcome: &Result<Response<ProxyBody>, ProxyError>,
) -> Finish {
    // The error's spec is looked up once, for the status and every variable that reads it.
    let (status, error, spec) = match outcome {
        Ok(r) => (r.status().as_u16(), None, None),
        Err(e) => {
            let spec = e.spec();
            (spec.status.as_u16(), Some(e), Some(spec))
        }
    };
    let served = Served {
        status,
        integration: ctx.integration.map(|i| i.latency),
        throttled: matches!(error, Some(ProxyError::Throttled(_))),
        unauthorized: matches!(
            error,
            Some(
                ProxyError::Unauthorized(_)
                    | ProxyError::InvalidToken(_)
                    | ProxyError::Forbidden(_)
            )
        ) && ctx.matched.is_some(),
        bytes_in: ctx.bytes_in,
        ..Served::default()
    };
    let Some((_, stage)) = ctx.stage else {
        runtime.meters.unrouted.add(status);
        return Finish {
            meter: None,
            served,
            received_at: ctx.received_at,
            outputs: None,
        };
    };
    let line = match (stage.access_log(), facts) {
        (Some(log), Some(facts)) => {
            Some((log.clone(), render(log, ctx, facts, status, error, spec)))
        }
        _ => None,
    };
    let spans = runtime.spans.as_ref().map(|_| Spans {
        trace: ctx.trace,
        authorizer: ctx.authorizer_timing,
        integration: ctx.integration,
        attributes: span_attributes(ctx, facts, status),
    });
    let outputs = (line.is_some() || spans.is_some()).then(|| {
        Box::new(Outputs {
            runtime: runtime.clone(),
            line,
            spans,
        })
    });
    Finish {
        meter: Some(stage.meter(ctx.matched.map(|m| m.route)).clone()),
        served,
        received_at: ctx.received_at,
        outputs,
    }
}

impl Finish {
    fn complete(mut self, bytes_out: u64) {
        self.served.latency = self.received_at.elapsed();
        self.served.bytes_out = bytes_out;
        if let Some(meter) = &self.meter {
            meter.record(&self.served);
        }
        let Some(outputs) = self.outputs.take() else {
            return;
        };
        let Outputs {
            runtime,
            line,
            spans,
        } = *outputs;
        if let Some((log, mut text)) = line {
            if log.has_end_values {
                fill_end_values(&log, &mut text, &self.served);
            }
            runtime.access_logs.send(&log.sink, text);
        }
        if let (Some(spans), Some(export)) = (spans, &runtime.spans) {
            let (now, now_instant) = (SystemTime::now(), Instant::now());
            let at = |i: Instant| now - now_instant.saturating_duration_since(i);
            let t = spans.trace;
            let error = self.served.status >= 500;
            let child = |name, kind, start: Instant, took: Duration, error| FinishedSpan {
                name,
                kind,
                trace_id: t.trace_id,
                span_id: rand::random(),
                parent_span_id: t.span_id,
                parent_is_remote: false,
                sampled: t.sampled(),
                start: at(start),
                end: at(start) + took,
                error,
                attributes: Vec::new(),
            };
            if let Some((start, took)) = spans.authorizer {
                export.export(child("authorizer", SpanKind::Internal, start, took, false));
            }
            if let Some(i) = spans.integration {
                let failed = i.status.is_none_or(|s| s >= 500);
                export.export(child(
                    "integration",
                    SpanKind::Client,
                    i.started,
                    i.latency,
                    failed,
                ));
            }
            export.export(FinishedSpan {
                name: "gateway",
                kind: SpanKind::Server,
                trace_id: t.trace_id,
                span_id: t.span_id,
                parent_span_id: t.parent_span_id.unwrap_or([0; 8]),
                parent_is_remote: t.parent_span_id.is_some(),
                sampled: t.sampled(),
                start: at(self.received_at),
                end: now,
                error,
                attributes: spans.attributes,
            });
        }
    }
}

/// The response body, which runs the end of the log phase when it ends or is dropped.
#[derive(Debug)]
pub struct LoggedBody {
    body: ProxyBody,
    sent: u64,
    finish: Option<Finish>,
}

pub fn attach(response: Response<ProxyBody>, finish: Finish) -> Response<LoggedBody> {
    response.map(|body| LoggedBody {
        body,
        sent: 0,
        finish: Some(finish),
    })
}

impl LoggedBody {
    fn end(&mut self) {
        if let Some(f) = self.finish.take() {
            f.complete(self.sent);
        }
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        self.end();
    }
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        // ProxyBody is Unpin, and so is this.
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.sent += data.len() as u64;
                }
                if this.body.is_end_stream() {
                    this.end();
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => this.end(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

fn span_attributes(
    ctx: &RequestContext<'_>,
    facts: Option<&RequestFacts<'_>>,
    status: u16,
) -> Vec<KeyValue> {
    let mut a = Vec::with_capacity(8);
    a.push(KeyValue::new(
        "http.response.status_code",
        i64::from(status),
    ));
    a.push(KeyValue::new(
        "aws.request_id",
        ctx.request_id.as_str().to_string(),
    ));
    if let Some(f) = facts {
        a.push(KeyValue::new("http.request.method", f.method.to_string()));
        a.push(KeyValue::new("url.path", f.uri.path().to_string()));
    }
    if let Some((api, stage)) = ctx.stage {
        a.push(KeyValue::new("portico.api_id", api.api_id.clone()));
        a.push(KeyValue::new("portico.stage", stage.name.clone()));
    }
    if let Some(m) = ctx.matched {
        a.push(KeyValue::new("http.route", m.route.key.to_string()));
    }
    a
}

/// The line, with [`LATER`] where end-of-body values go.
fn render(
    log: &CompiledAccessLog,
    ctx: &RequestContext<'_>,
    facts: &RequestFacts<'_>,
    status: u16,
    error: Option<&ProxyError>,
    spec: Option<ErrorSpec>,
) -> String {
    let mut out = String::with_capacity(256);
    for part in &log.format.parts {
        let var = match part {
            LogPart::Static(text) => {
                out.push_str(text);
                continue;
            }
            LogPart::Var(v) => v,
        };
        if var.at_end() {
            out.push(LATER);
            continue;
        }
        let start = out.len();
        write_value(var, ctx, facts, status, error, spec, &mut out);
        if out.len() == start {
            out.push('-');
        } else if out[start..].bytes().any(needs_escape) {
            let raw = out.split_off(start);
            escape_into(&raw, &mut out);
        }
    }
    out
}

fn write_value(
    var: &LogVar,
    ctx: &RequestContext<'_>,
    facts: &RequestFacts<'_>,
    status: u16,
    error: Option<&ProxyError>,
    spec: Option<ErrorSpec>,
    out: &mut String,
) {
    use portico_model::ContextVar;
    match var {
        LogVar::Context(ContextVar::RouteKey) => {
            if let Some(m) = ctx.matched {
                let _ = write!(out, "{}", m.route.key);
            }
        }
        LogVar::Context(ContextVar::Stage) => {
            if let Some((_, stage)) = ctx.stage {
                out.push_str(&stage.name);
            }
        }
        LogVar::Context(ContextVar::ApiId) => {
            if let Some((api, _)) = ctx.stage {
                out.push_str(&api.api_id);
            }
        }
        // AWS fills in its account; a self-hosted gateway has none.
        LogVar::Context(ContextVar::AccountId) => {}
        LogVar::Context(v) => ctx.write_request_variable(*v, facts, out),
        LogVar::Authorizer { claim, name } => {
            if let Some(a) = &ctx.authorized {
                a.write_value(*claim, name, out);
            }
        }
        LogVar::AuthorizerError => {
            if let (
                Some(
                    ProxyError::Unauthorized(_)
                    | ProxyError::InvalidToken(_)
                    | ProxyError::Forbidden(_)
                    | ProxyError::AuthorizerFailed(_),
                ),
                Some(spec),
            ) = (error, spec)
            {
                out.push_str(error_message(spec.body));
            }
        }
        LogVar::Status => {
            let _ = write!(out, "{status}");
        }
        LogVar::IntegrationLatency => {
            if let Some(i) = ctx.integration {
                let _ = write!(out, "{}", i.latency.as_millis());
            }
        }
        LogVar::IntegrationStatus => {
            if let Some(s) = ctx.integration.and_then(|i| i.status) {
                let _ = write!(out, "{s}");
            }
        }
        LogVar::IntegrationErrorMessage => {
            if let (Some(e), Some(spec)) = (error, spec)
                && spec.origin == ErrorOrigin::Upstream
            {
                let _ = write!(out, "{}", ErrorChain(e));
            }
        }
        LogVar::ErrorMessage => {
            if let Some(spec) = spec {
                out.push_str(error_message(spec.body));
            }
        }
        LogVar::ErrorMessageString => {
            if let Some(spec) = spec {
                out.push('"');
                out.push_str(error_message(spec.body));
                out.push('"');
            }
        }
        LogVar::ErrorResponseType => {
            if let Some(spec) = spec {
                out.push_str(spec.response_type);
            }
        }
        LogVar::BasePathMatched => {
            if let Some(key) = ctx.base_path {
                out.push_str(key);
            }
        }
        LogVar::TraceId => ctx.trace.write_trace_id(out),
        LogVar::Unavailable(_) => {}
        LogVar::ResponseLength | LogVar::ResponseLatency | LogVar::DataProcessed => {}
    }
}

/// The message of one of the gateway's `{"message":"…"}` bodies.
fn error_message(body: &'static [u8]) -> &'static str {
    let text = std::str::from_utf8(body).unwrap_or("");
    text.strip_prefix(r#"{"message":""#)
        .and_then(|t| t.strip_suffix(r#""}"#))
        .unwrap_or(text)
}

fn fill_end_values(log: &CompiledAccessLog, text: &mut String, served: &Served) {
    let mut from = 0;
    for part in &log.format.parts {
        let LogPart::Var(var) = part else { continue };
        if !var.at_end() {
            continue;
        }
        let Some(at) = text[from..].find(LATER).map(|i| i + from) else {
            return;
        };
        let value = match var {
            LogVar::ResponseLength => served.bytes_out,
            LogVar::ResponseLatency => served.latency.as_millis() as u64,
            _ => served.bytes_in + served.bytes_out,
        };
        let digits = value.to_string();
        text.replace_range(at..at + 1, &digits);
        from = at + digits.len();
    }
}

fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

fn escape_into(raw: &str, out: &mut String) {
    for c in raw.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_escaped() {
        let mut out = String::new();
        escape_into("a\"b\\c\nd\u{1}", &mut out);
        assert_eq!(out, r#"a\"b\\c\nd\u0001"#);
    }

    #[test]
    fn gateway_messages_come_out_of_their_bodies() {
        assert_eq!(error_message(br#"{"message":"Not Found"}"#), "Not Found");
    }
}
