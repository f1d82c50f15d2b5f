use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use portico_model::{Page, Stage};

use super::api_edit_form::ApiEditForm;
use super::api_export::ApiExport;
use super::api_tags::ApiTags;
use super::import::ImportNotice;
use super::{CurrentApi, current_api_id, invoke_url};
use crate::client::{AdminClient, segment};
use crate::components::copy_button::CopyButton;
use crate::components::deployment_notice::DeploymentNotice;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::relative_time::RelativeTime;

/// An API's details, its invoke URL per stage, its tags, editing, exporting its current
/// definition, and deletion; after an import, what the import left out.
#[component]
pub fn ApiOverview() -> impl IntoView {
    let CurrentApi { api, .. } = expect_context::<CurrentApi>();
    let client = AdminClient::new();
    let api_id = current_api_id();
    let import_notice = import_notice(&api_id);
    let stages_path = format!("/v2/apis/{}/stages", segment(&api_id));
    let stages = Resource::new(|| (), {
        let client = client.clone();
        move |_| {
            let (client, path) = (client.clone(), stages_path.clone());
            async move { client.get::<Page<Stage>>(&path).await }
        }
    });

    let api_path = format!("/v2/apis/{}", segment(&api_id));

    let confirming = RwSignal::new(false);
    let delete_errors = FormErrors::new(&[]);
    let navigate = use_navigate();
    let on_delete = move |_| {
        if !confirming.get_untracked() {
            confirming.set(true);
            return;
        }
        let (client, path, navigate) = (client.clone(), api_path.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            match client.delete(&path).await {
                Ok(()) => navigate("/apis", Default::default()),
                Err(e) => delete_errors.set(e),
            }
        });
    };

    view! {
        {import_notice}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (api, stages) = (api.await, stages.await);
                let api = match api {
                    Ok(api) => api,
                    Err(_) => return ().into_any(),
                };
                let urls = match stages {
                    Ok(page) if page.items.is_empty() => {
                        view! {
                            <p class="empty">
                                "No stages yet: create one under Stages to get an invoke URL."
                            </p>
                        }
                            .into_any()
                    }
                    Ok(page) => {
                        view! {
                            <ul class="invoke-urls">
                                {page
                                    .items
                                    .into_iter()
                                    .map(|stage| {
                                        let url = invoke_url(&api, &stage.stage_name);
                                        view! {
                                            <li>
                                                <span class="stage-name">{stage.stage_name.clone()}</span>
                                                <CopyButton text=url label="invoke URL"/>
                                                <DeploymentNotice message=stage.last_deployment_status_message.clone()/>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                };
                view! {
                    <section class="card">
                        <h2>"Details"</h2>
                        <dl class="details">
                            <dt>"API ID"</dt>
                            <dd class="mono">{api.api_id.clone()}</dd>
                            <dt>"Protocol"</dt>
                            <dd>{api.protocol_type.clone()}</dd>
                            <dt>"Endpoint"</dt>
                            <dd class="mono">{api.api_endpoint.clone()}</dd>
                            <dt>"Created"</dt>
                            <dd><RelativeTime at=api.created_date.clone()/></dd>
                        </dl>
                    </section>
                    <section class="card">
                        <h2>"Invoke URLs"</h2>
                        {urls}
                    </section>
                    <section class="card api-tags">
                        <h2>"Tags"</h2>
                        <ApiTags api=api.clone()/>
                    </section>
                    <section class="card">
                        <h2>"Edit"</h2>
                        <ApiEditForm api=api.clone()/>
                    </section>
                    <section class="card api-export">
                        <h2>"Export the current definition"</h2>
                        <p class="muted">
                            "The routes, integrations, authorizers and CORS as they are now, undeployed; a stage's Export, on the Stages tab, gives what the stage serves."
                        </p>
                        <ApiExport dom_id="api-export" api_name=api.name.clone() stage=None/>
                    </section>
                }
                    .into_any()
            })}
        </Transition>
        <section class="card danger-zone">
            <h2>"Delete this API"</h2>
            <p class="muted">"Its routes, integrations, stages and deployments go with it; nodes stop serving it."</p>
            <ErrorBanner failure=delete_errors.general()/>
            <button type="button" class="danger" on:click=on_delete>
                {move || if confirming.get() { "Click again to delete" } else { "Delete API" }}
            </button>
        </section>
    }
}

/// What the import that made or replaced this API left out, until dismissed; nothing
/// when the last import was of another API.
fn import_notice(api_id: &str) -> Option<impl IntoView + use<>> {
    let notice = use_context::<ImportNotice>()?;
    let last = notice.0.get_untracked().filter(|l| l.api_id == api_id)?;
    let what = if last.reimported {
        "Reimported"
    } else {
        "Imported"
    };
    let summary = match last.warnings.len() {
        0 => format!("{what} from the OpenAPI definition, with no warnings."),
        1 => format!("{what} from the OpenAPI definition; one part was left out:"),
        n => format!("{what} from the OpenAPI definition; {n} parts were left out:"),
    };
    let warnings = last.warnings;
    let shown = RwSignal::new(true);
    Some(view! {
        <Show when=move || shown.get()>
            <section class="card import-notice" role="status">
                <p>{summary.clone()}</p>
                <ul class="import-warnings" class:hidden=warnings.is_empty()>
                    {warnings.iter().map(|w| view! { <li class="mono">{w.clone()}</li> }).collect_view()}
                </ul>
                <button type="button" class="secondary" on:click=move |_| {
                    shown.set(false);
                    notice.0.set(None);
                }>"Dismiss"</button>
            </section>
        </Show>
    })
}
