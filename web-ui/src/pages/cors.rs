use leptos::prelude::*;
use portico_model::{Page, Stage};

use super::cors_form::CorsForm;
use super::{CurrentApi, current_api_id};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::delete_button::DeleteButton;
use crate::components::deployment_notice::DeploymentNotice;
use crate::components::error_banner::ErrorBanner;

/// An API's CORS configuration, as the AWS console's CORS page has it: set it, see which
/// stages serve it, or remove it.
#[component]
pub fn CorsPage() -> impl IntoView {
    let CurrentApi { api, reload } = expect_context::<CurrentApi>();
    let client = AdminClient::new();
    let api_path = format!("/v2/apis/{}", segment(&current_api_id()));
    // Loaded again with the API: a save redeploys the auto-deploy stages.
    let stages = Resource::new(move || reload.track(), {
        let path = format!("{api_path}/stages");
        move |_| {
            let (client, path) = (client.clone(), path.clone());
            async move { client.get::<Page<Stage>>(&path).await }
        }
    });
    let saved = RwSignal::new(false);
    let remove_failure = RwSignal::new(None::<ApiFailure>);
    let on_removed = Callback::new(move |()| {
        saved.set(false);
        reload.bump();
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new({
                let api_path = api_path.clone();
                async move {
                    // ApiLayout already shows why the API did not load.
                    let Ok(api) = api.await else { return ().into_any() };
                    let configured = api.cors_configuration.is_some();
                    let state = if configured {
                        "Browsers may call this API from the origins below."
                    } else {
                        "No CORS configuration: the API answers no preflight and adds no CORS headers."
                    };
                    view! {
                        <section class="card">
                            <h2>"CORS"</h2>
                            <p class="muted cors-state">{state}</p>
                            <p class="hint">"Lists take one value per line, or values separated by commas."</p>
                            <CorsForm api saved/>
                            <p class="saved" role="status">{move || saved.get().then_some("Saved")}</p>
                        </section>
                        {configured
                            .then(|| {
                                view! {
                                    <section class="card danger-zone">
                                        <h2>"Remove CORS"</h2>
                                        <p class="muted">"Preflights and CORS headers stop with the API's next deployment."</p>
                                        <ErrorBanner failure=remove_failure/>
                                        <DeleteButton
                                            path=format!("{api_path}/cors")
                                            label="Remove CORS"
                                            on_deleted=on_removed
                                            failure=remove_failure
                                        />
                                    </section>
                                }
                            })}
                    }
                        .into_any()
                }
            })}
        </Transition>
        <section class="card">
            <h2>"Where it is served"</h2>
            <p class="hint">
                "CORS reaches clients through deployments, like every other change to the API: "
                "stages that deploy automatically serve it as soon as it is saved, the others "
                "from their next deployment (Stages → Deploy now)."
            </p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match stages.await {
                        Ok(page) if page.items.is_empty() => {
                            view! { <p class="empty">"No stages yet: nothing serves the API."</p> }.into_any()
                        }
                        Ok(page) => view! { <ul class="plain cors-stages">{page.items.into_iter().map(stage_reach).collect_view()}</ul> }.into_any(),
                        Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// When one stage serves what is saved here.
fn stage_reach(stage: Stage) -> impl IntoView {
    let when = if stage.auto_deploy {
        "deploys automatically: serves each save at once"
    } else {
        "deployed by hand: serves a save after its next deployment"
    };
    view! {
        <li data-stage=stage.stage_name.clone()>
            <span class="stage-name">{stage.stage_name.clone()}</span>
            " — "
            {when}
            <DeploymentNotice message=stage.last_deployment_status_message.clone()/>
        </li>
    }
}
