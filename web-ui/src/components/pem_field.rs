use leptos::prelude::*;

use super::form_errors::FormErrors;
use super::text_file_field::TextFileField;

/// A PEM text box (a certificate, a key, a bundle) with a file picker that reads a local
/// file into it; the text stays editable, and is what is sent.
#[component]
pub fn PemField(
    #[prop(into)] id: String,
    label: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    errors: FormErrors,
    #[prop(optional)] hint: &'static str,
    #[prop(default = "-----BEGIN CERTIFICATE-----")] placeholder: &'static str,
    #[prop(default = 6)] rows: u32,
) -> impl IntoView {
    view! {
        <TextFileField
            id
            label
            field
            value
            errors
            hint
            placeholder
            rows
            class="pem-field"
            accept=".pem,.crt,.cer,.key,.txt,application/x-pem-file,text/plain"
        />
    }
}
