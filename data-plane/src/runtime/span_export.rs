//! Spans of finished requests, exported over OTLP/HTTP (protobuf) with the
//! OpenTelemetry SDK's batch processor on the node's background runtime. The request
//! path hands over finished spans and never waits: a full queue drops them, and the
//! SDK counts and reports the drops.
//!
//! The pipeline builds its spans itself, with the ids it already put in `traceparent`,
//! rather than through a `Tracer`, so the ids the integration saw are the ones exported.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, SpanData, SpanProcessor};

/// How long spans wait to be sent in a batch.
const SCHEDULED_DELAY: Duration = Duration::from_millis(500);
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("cannot set up the OTLP exporter for {endpoint}: {source}")]
pub struct SpanExportError {
    endpoint: String,
    #[source]
    source: opentelemetry_otlp::ExporterBuildError,
}

/// The node's span exporter.
pub struct SpanExport {
    processor: BatchSpanProcessor<opentelemetry_sdk::runtime::Tokio>,
    scope: InstrumentationScope,
}

impl std::fmt::Debug for SpanExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanExport").finish_non_exhaustive()
    }
}

/// One span as the pipeline saw it.
#[derive(Debug, Clone)]
pub struct FinishedSpan {
    pub name: &'static str,
    pub kind: SpanKind,
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    /// All zeros for a root span.
    pub parent_span_id: [u8; 8],
    pub parent_is_remote: bool,
    pub sampled: bool,
    pub start: SystemTime,
    pub end: SystemTime,
    pub error: bool,
    pub attributes: Vec<KeyValue>,
}

impl SpanExport {
    /// Starts the batch processor; call on the runtime it should run on.
    /// `endpoint` is the collector's base URL (`http://host:4318`), as
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` names it; spans go to `{endpoint}/v1/traces`.
    pub fn start(endpoint: &str, service_name: &str) -> Result<Self, SpanExportError> {
        let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|source| SpanExportError {
                endpoint: endpoint.to_string(),
                source,
            })?;
        let config = BatchConfigBuilder::default()
            .with_scheduled_delay(SCHEDULED_DELAY)
            .with_max_queue_size(16_384)
            .build();
        let mut processor =
            BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio)
                .with_batch_config(config)
                .build();
        processor.set_resource(
            &Resource::builder_empty()
                .with_service_name(service_name.to_string())
                .build(),
        );
        Ok(SpanExport {
            processor,
            scope: InstrumentationScope::builder("portico-proxy")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        })
    }

    /// Queues a finished span for the next batch.
    pub fn export(&self, span: FinishedSpan) {
        let flags = if span.sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let data = SpanData {
            span_context: SpanContext::new(
                TraceId::from_bytes(span.trace_id),
                SpanId::from_bytes(span.span_id),
                flags,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from_bytes(span.parent_span_id),
            parent_span_is_remote: span.parent_is_remote,
            span_kind: span.kind,
            name: Cow::Borrowed(span.name),
            start_time: span.start,
            end_time: span.end,
            attributes: span.attributes,
            dropped_attributes_count: 0,
            events: Default::default(),
            links: Default::default(),
            status: if span.error {
                Status::error("")
            } else {
                Status::Unset
            },
            instrumentation_scope: self.scope.clone(),
        };
        self.processor.on_end(data);
    }

    /// Sends what is queued, for a clean stop.
    pub fn shutdown(&self) {
        let _ = self.processor.shutdown_with_timeout(Duration::from_secs(5));
    }
}
