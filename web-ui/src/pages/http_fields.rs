//! The part of the integration form that only an HTTP proxy integration (`HTTP_PROXY`)
//! has, besides its parameter mappings.
use leptos::prelude::*;

use super::method_options;
use crate::components::form_errors::FormErrors;
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// The backend's URI, in the same `uri` the Lambda fields use, and the method it is
/// called with.
#[component]
pub fn HttpFields(
    id_prefix: String,
    uri: RwSignal<String>,
    method: RwSignal<String>,
    errors: FormErrors,
) -> impl IntoView {
    view! {
        <TextField
            id=format!("{id_prefix}-uri")
            label="Integration URI"
            field="integrationUri"
            value=uri
            errors
            placeholder="http://127.0.0.1:3000/notes/{id}"
            hint="http(s) URL; {param} and ${stageVariables.name} are filled in per request"
            required=true
        />
        <SelectField
            id=format!("{id_prefix}-method")
            label="Method"
            field="integrationMethod"
            value=method
            errors
            options=method_options(true)
        />
    }
}
