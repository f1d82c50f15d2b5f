//! Export as OpenAPI 3 (`GET /v2/apis/{apiId}/exports/OAS30`), downloaded as a file.
use leptos::prelude::*;

use super::current_api_id;
use crate::client::{AdminClient, ApiFailure, Verb, segment};
use crate::components::checkbox_field::CheckboxField;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::select_field::SelectField;

/// The file of the last export: kept on the page as a link, so it can be saved again.
#[derive(Debug, Clone, PartialEq)]
struct ExportedFile {
    name: String,
    /// A `blob:` URL in the browser; revoked when the next export replaces it.
    href: String,
    bytes: usize,
}

/// The export's file name: `{api}-{stage}-oas30.json` (`current` for the undeployed
/// definition), with what file systems refuse in a name replaced.
pub(crate) fn export_file_name(api_name: &str, stage: Option<&str>, output_type: &str) -> String {
    let extension = if output_type == "YAML" {
        "yaml"
    } else {
        "json"
    };
    let name = format!(
        "{api_name}-{}-oas30.{extension}",
        stage.unwrap_or("current")
    );
    name.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// ExportApi's path and query for `api_id`.
pub(crate) fn export_path(
    api_id: &str,
    stage: Option<&str>,
    output_type: &str,
    extensions: bool,
) -> String {
    let mut path = format!(
        "/v2/apis/{}/exports/OAS30?outputType={output_type}&includeExtensions={extensions}&exportVersion=1.0",
        segment(api_id)
    );
    if let Some(stage) = stage {
        path.push_str(&format!("&stageName={}", segment(stage)));
    }
    path
}

/// Exports what `stage` serves, or without one the API's current (undeployed) routes,
/// integrations, authorizers and CORS, as JSON or YAML, with or without the
/// `x-amazon-apigateway-*` extensions, and downloads it.
#[component]
pub fn ApiExport(
    /// Unique on the page, for element ids.
    #[prop(into)]
    dom_id: String,
    api_name: String,
    stage: Option<String>,
) -> impl IntoView {
    let client = AdminClient::new();
    let api_id = current_api_id();
    let output_type = RwSignal::new("JSON".to_owned());
    let extensions = RwSignal::new(true);
    let errors = FormErrors::new(&["outputType", "includeExtensions"]);
    let busy = RwSignal::new(false);
    let file = RwSignal::new(None::<ExportedFile>);
    on_cleanup(move || {
        if let Some(old) = file.try_get_untracked().flatten() {
            revoke(&old.href);
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let kind = output_type.get_untracked();
        let path = export_path(&api_id, stage.as_deref(), &kind, extensions.get_untracked());
        let name = export_file_name(&api_name, stage.as_deref(), &kind);
        let client = client.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let answer = client.send(Verb::Get, &path, None).await;
            busy.set(false);
            let text = match answer {
                Ok(text) => text,
                Err(e) => return errors.set(e),
            };
            let media_type = if kind == "YAML" {
                "application/yaml"
            } else {
                "application/json"
            };
            match object_url(&text, media_type) {
                Ok(href) => {
                    download(&href, &name);
                    let made = ExportedFile {
                        name,
                        href,
                        bytes: text.len(),
                    };
                    if let Some(Some(old)) = file.try_get_untracked() {
                        revoke(&old.href);
                    }
                    // The page may have gone while the export was made.
                    if let Some(Some(unshown)) = file.try_set(Some(made)) {
                        revoke(&unshown.href);
                    }
                }
                Err(message) => errors.set(ApiFailure::invalid("outputType", message)),
            }
        });
    };
    let saved = move || {
        file.get().map(|f| {
            view! {
                <p class="export-saved" role="status">
                    "Downloaded "
                    <a class="export-file mono" href=f.href download=f.name.clone()>{f.name.clone()}</a>
                    {format!(" ({} bytes)", f.bytes)}
                </p>
            }
        })
    };
    view! {
        <form class="inline-form export-form" on:submit=on_submit>
            <ErrorBanner failure=errors.general()/>
            <SelectField
                id=format!("{dom_id}-format")
                label="Export as OpenAPI 3"
                field="outputType"
                value=output_type
                errors
                options=vec![("JSON".into(), "JSON".into()), ("YAML".into(), "YAML".into())]
            />
            <CheckboxField
                id=format!("{dom_id}-extensions")
                label="With API Gateway extensions"
                field="includeExtensions"
                value=extensions
                errors
            />
            <button type="submit" class="secondary" disabled=move || busy.get()>"Export"</button>
        </form>
        {saved}
    }
}

/// A `blob:` URL holding `text`.
#[cfg(feature = "hydrate")]
fn object_url(text: &str, media_type: &str) -> Result<String, String> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| "This browser can't hold the exported file".to_owned())?;
    web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| "This browser can't offer the exported file for download".to_owned())
}

/// Saves `href` as a file named `name`, as a click on an `<a download>` does.
#[cfg(feature = "hydrate")]
fn download(href: &str, name: &str) {
    use wasm_bindgen::JsCast;

    let Some(anchor) = document()
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    else {
        return;
    };
    anchor.set_href(href);
    anchor.set_download(name);
    anchor.click();
}

#[cfg(feature = "hydrate")]
fn revoke(href: &str) {
    let _ = web_sys::Url::revoke_object_url(href);
}

#[cfg(not(feature = "hydrate"))]
fn object_url(_: &str, _: &str) -> Result<String, String> {
    Err("Files are made in the browser".into())
}

#[cfg(not(feature = "hydrate"))]
fn download(_: &str, _: &str) {}

#[cfg(not(feature = "hydrate"))]
fn revoke(_: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_after_the_api_and_stage() {
        assert_eq!(
            export_file_name("notes", Some("dev"), "JSON"),
            "notes-dev-oas30.json"
        );
        assert_eq!(
            export_file_name("notes", Some("$default"), "YAML"),
            "notes-$default-oas30.yaml"
        );
        assert_eq!(
            export_file_name("a/b: \"c\"", None, "JSON"),
            "a_b_ _c_-current-oas30.json"
        );
    }

    #[test]
    fn the_stage_is_asked_for_by_name() {
        assert_eq!(
            export_path("abc", Some("$default"), "YAML", false),
            "/v2/apis/abc/exports/OAS30?outputType=YAML&includeExtensions=false&exportVersion=1.0&stageName=%24default"
        );
        assert_eq!(
            export_path("abc", None, "JSON", true),
            "/v2/apis/abc/exports/OAS30?outputType=JSON&includeExtensions=true&exportVersion=1.0"
        );
    }
}
