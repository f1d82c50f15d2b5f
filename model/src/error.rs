/// A rule a value broke. The message is meant for the user who sent the value, in the
/// words the admin API and the console both show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// The field the error is about (camelCase, as in the JSON), so a form can show it
    /// beside the right input.
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
