use leptos::prelude::*;

use super::form_errors::FormErrors;
use super::text_area_field::TextAreaField;

/// A text box with a file picker that reads a local file into it (a PEM bundle, an
/// OpenAPI document); the text stays editable, and is what is sent.
#[component]
pub fn TextFileField(
    #[prop(into)] id: String,
    label: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    errors: FormErrors,
    /// The picker's `accept`: the extensions and media types it offers first.
    accept: &'static str,
    /// The wrapper's class, which sizes it in a form grid.
    #[prop(default = "text-file-field")]
    class: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = 6)] rows: u32,
) -> impl IntoView {
    let file_id = format!("{id}-file");
    // What the picker last read, or why it could not.
    let read = RwSignal::new(None::<String>);
    let on_change = move |ev: leptos::ev::Event| read_into(&ev, value, read);
    view! {
        <div class=class>
            <TextAreaField id label field value errors hint placeholder rows/>
            <div class="file-pick">
                <label for=file_id.clone()>"Read from a file"</label>
                <input id=file_id type="file" accept=accept on:change=on_change/>
                <span class="file-read muted" role="status">{move || read.get()}</span>
            </div>
        </div>
    }
}

/// Reads the file just picked as text into `value`.
#[cfg(feature = "hydrate")]
fn read_into(ev: &leptos::ev::Event, value: RwSignal<String>, read: RwSignal<Option<String>>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let Some(file) = input.files().and_then(|files| files.get(0)) else {
        return;
    };
    let Ok(reader) = web_sys::FileReader::new() else {
        read.set(Some("This browser can't read files".into()));
        return;
    };
    let name = file.name();
    let done = reader.clone();
    let on_load =
        Closure::once_into_js(
            move || match done.result().ok().and_then(|r| r.as_string()) {
                Some(text) => {
                    read.set(Some(format!("Read {name} ({} bytes)", text.len())));
                    value.set(text);
                }
                None => read.set(Some(format!("{name} could not be read as text"))),
            },
        );
    reader.set_onload(Some(on_load.unchecked_ref()));
    if reader.read_as_text(&file).is_err() {
        read.set(Some("The file could not be read".into()));
    }
}

#[cfg(not(feature = "hydrate"))]
fn read_into(_: &leptos::ev::Event, _: RwSignal<String>, _: RwSignal<Option<String>>) {}
