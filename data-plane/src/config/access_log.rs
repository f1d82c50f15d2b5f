//! A stage's access log as the log phase uses it: the parsed format and the sink of
//! its log group, which outlives the swap.
use std::sync::Arc;

use portico_model::{LogFormat, LogPart, ValidationError};

use crate::runtime::access_log::{AccessLogSink, AccessLogWriter};

#[derive(Debug)]
pub struct CompiledAccessLog {
    pub sink: Arc<AccessLogSink>,
    pub format: LogFormat,
    /// Whether a variable in the format is only known at the end of the response.
    pub has_end_values: bool,
}

pub fn compile(
    log: &portico_proto::AccessLog,
    writer: &AccessLogWriter,
) -> Result<Arc<CompiledAccessLog>, ValidationError> {
    let format = LogFormat::parse(&log.format)?;
    let has_end_values = format
        .parts
        .iter()
        .any(|p| matches!(p, LogPart::Var(v) if v.at_end()));
    Ok(Arc::new(CompiledAccessLog {
        sink: writer.sink(&log.log_group),
        format,
        has_end_values,
    }))
}
