//! Import an API from an OpenAPI 3 document (JSON or YAML, such as AWS's or a Portico
//! stage's export): the document is planned in the browser with the same code the control
//! plane imports with, so what the review shows is what will be created; then ImportApi
//! (`PUT /v2/apis`) creates a new API, or ReimportApi (`PUT /v2/apis/{apiId}`) replaces an
//! existing one's routes, integrations, authorizers and CORS.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use portico_model::openapi::{Basepath, ImportError, ImportPlan, plan_import};
use portico_model::{Api, Page};
use serde::Deserialize;
use serde_json::json;

use super::import_review::ImportReview;
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::checkbox_field::CheckboxField;
use crate::components::error_banner::ErrorBanner;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_file_field::TextFileField;

/// The last import's outcome, kept across the navigation to the API it made so that the
/// API's page can show what was left out. Provided by the console's layout.
#[derive(Clone, Copy)]
pub(crate) struct ImportNotice(pub RwSignal<Option<LastImport>>);

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LastImport {
    pub api_id: String,
    pub reimported: bool,
    pub warnings: Vec<String>,
}

/// What ImportApi and ReimportApi answer, besides the API: what they left out.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Imported {
    api_id: String,
    #[serde(default)]
    warnings: Vec<String>,
}

/// ImportApi's or ReimportApi's path and query.
pub(crate) fn import_path(onto: Option<&str>, fail_on_warnings: bool, basepath: &str) -> String {
    let base = match onto {
        Some(api_id) => format!("/v2/apis/{}", segment(api_id)),
        None => "/v2/apis".to_owned(),
    };
    format!(
        "{base}?failOnWarnings={fail_on_warnings}&basepath={}",
        segment(basepath)
    )
}

const BASEPATH_OPTIONS: [(&str, &str); 3] = [
    ("ignore", "Ignore the base path"),
    ("prepend", "Prepend the base path to every route"),
    (
        "split",
        "Drop the base path's first segment, prepend the rest",
    ),
];

/// The Import page.
#[component]
pub fn ImportPage() -> impl IntoView {
    let client = AdminClient::new();
    let apis = Resource::new(|| (), {
        let client = client.clone();
        move |_| {
            let client = client.clone();
            async move { client.get::<Page<Api>>("/v2/apis?maxResults=500").await }
        }
    });
    let text = RwSignal::new(String::new());
    let basepath = RwSignal::new("ignore".to_owned());
    let fail_on_warnings = RwSignal::new(false);
    let reviewed = RwSignal::new(None::<Result<ImportPlan, ImportError>>);
    let onto = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    let review_state = FormState::new(&["body", "basepath", "failOnWarnings"]);
    let errors = review_state.errors;
    // A review is of the document and options it was made from; changing them hides it.
    Effect::new(move |_| {
        text.track();
        basepath.track();
        reviewed.set(None);
    });
    Effect::new(move |_| {
        onto.track();
        confirming.set(false);
    });
    let on_review = Callback::new(move |()| {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return errors.set(ApiFailure::invalid(
                "body",
                "Paste an OpenAPI 3 document, or read one from a file",
            ));
        }
        let mode = match Basepath::parse(&basepath.get_untracked()) {
            Ok(mode) => mode,
            Err(e) => return errors.set(ApiFailure::invalid(e.field, e.message)),
        };
        reviewed.set(Some(plan_import(&body, mode)));
        // The review opens below a long document: bring it into sight once drawn.
        #[cfg(feature = "hydrate")]
        request_animation_frame(|| {
            if let Ok(Some(review)) = document().query_selector("#import-review") {
                review.scroll_into_view();
            }
        });
    });

    let send = FormState::new(&[]);
    let (send_errors, send_busy) = (send.errors, send.busy);
    let notice = use_context::<ImportNotice>();
    let navigate = use_navigate();
    let import = move |target: Option<String>| {
        let path = import_path(
            target.as_deref(),
            fail_on_warnings.get_untracked(),
            &basepath.get_untracked(),
        );
        let body = json!({ "body": text.get_untracked() });
        let navigate = navigate.clone();
        let reimported = target.is_some();
        send_errors.clear();
        send.send(FormTarget::Replace(path), body, move |done: Imported| {
            if let Some(ImportNotice(last)) = notice {
                last.set(Some(LastImport {
                    api_id: done.api_id.clone(),
                    reimported,
                    warnings: done.warnings,
                }));
            }
            navigate(&format!("/apis/{}", done.api_id), Default::default());
        });
    };
    let on_create = {
        let import = import.clone();
        move |_| import(None)
    };
    // Replacing an API's definition is undone only by another import: it takes two clicks.
    let on_reimport = move |_| {
        let target = onto.get_untracked();
        if target.is_empty() {
            return;
        }
        if !confirming.get_untracked() {
            confirming.set(true);
            return;
        }
        confirming.set(false);
        import(Some(target));
    };

    let plan_view = move || {
        let review = reviewed.get()?;
        Some(match review {
            Err(e) => {
                let at = if e.pointer.is_empty() {
                    "/".to_owned()
                } else {
                    e.pointer.clone()
                };
                view! {
                    <section class="card" id="import-review">
                        <h2>"Review"</h2>
                        <div class="error-banner import-error" role="alert">
                            <strong>"This document can't be imported"</strong>
                            " "
                            <span class="error-message">{e.message.clone()}</span>
                            <p class="import-pointer">"At " <code>{at}</code></p>
                        </div>
                    </section>
                }
                .into_any()
            }
            Ok(plan) => {
                let warned = !plan.warnings.is_empty();
                let will_fail = move || {
                    (warned && fail_on_warnings.get()).then(|| {
                        view! {
                            <p class="deployment-notice will-fail">
                                "Fail on warnings is on and the document has warnings: the admin API will refuse the import."
                            </p>
                        }
                    })
                };
                let targets = move || {
                    Suspend::new(async move {
                        let list = match apis.await {
                            Ok(page) => page.items,
                            Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                        };
                        let mut options = vec![(String::new(), "Choose an API…".to_owned())];
                        options.extend(
                            list.into_iter()
                                .map(|a| (a.api_id.clone(), format!("{} ({})", a.name, a.api_id))),
                        );
                        view! {
                            <SelectField
                                id="import-onto"
                                label="Or reimport onto an existing API"
                                field="apiId"
                                value=onto
                                errors=send_errors
                                options
                                hint="Its routes, integrations, authorizers and CORS are replaced by the document's; stages and deployments stay, and auto-deploy stages redeploy"
                            />
                        }
                        .into_any()
                    })
                };
                view! {
                    <section class="card" id="import-review">
                        <h2>"Review"</h2>
                        <ImportReview plan/>
                    </section>
                    <section class="card import-actions">
                        <h2>"Import"</h2>
                        <ErrorBanner failure=send_errors.general()/>
                        {will_fail}
                        <div class="actions">
                            <button type="button" class="primary" id="import-create" on:click=on_create.clone() disabled=move || send_busy.get()>
                                "Create API"
                            </button>
                        </div>
                        <div class="inline-form reimport">
                            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>{targets}</Transition>
                            <button
                                type="button"
                                class="danger"
                                id="import-reimport"
                                on:click=on_reimport.clone()
                                disabled=move || onto.get().is_empty() || send_busy.get()
                            >
                                {move || if confirming.get() { "Click again to replace its definition" } else { "Reimport onto this API" }}
                            </button>
                        </div>
                    </section>
                }
                .into_any()
            }
        })
    };

    view! {
        <p class="breadcrumb">
            <a href="/apis">"APIs"</a>
            " / Import"
        </p>
        <h1>"Import an API"</h1>
        <section class="card">
            <h2>"OpenAPI 3 definition"</h2>
            <p class="muted">
                "JSON or YAML, with API Gateway's x-amazon-apigateway extensions, as AWS or a Portico stage exports it. Review shows what will be created before anything is."
            </p>
            <ResourceForm class="import-form" state=review_state submit_label="Review" on_submit=on_review>
                <TextFileField
                    id="import-body"
                    label="Definition"
                    field="body"
                    value=text
                    errors
                    class="document-field"
                    accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml"
                    placeholder="openapi: 3.0.1"
                    rows=14
                />
                <SelectField
                    id="import-basepath"
                    label="Base path"
                    field="basepath"
                    value=basepath
                    errors
                    options=BASEPATH_OPTIONS.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()
                    hint="What becomes of servers[0]'s basePath, as ImportApi's basepath option says"
                />
                <CheckboxField
                    id="import-fail-on-warnings"
                    label="Fail on warnings"
                    field="failOnWarnings"
                    value=fail_on_warnings
                    errors
                    hint="Refuse the import, and create nothing, if any part of the document would be left out"
                />
            </ResourceForm>
        </section>
        {plan_view}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_go_to_the_collection_or_the_api() {
        assert_eq!(
            import_path(None, false, "ignore"),
            "/v2/apis?failOnWarnings=false&basepath=ignore"
        );
        assert_eq!(
            import_path(Some("a1b2"), true, "split"),
            "/v2/apis/a1b2?failOnWarnings=true&basepath=split"
        );
    }
}
