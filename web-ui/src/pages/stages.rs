use leptos::prelude::*;
use portico_model::{ApiServing, Deployment, Page, Route, Stage};

use super::api_export::ApiExport;
use super::stage_deployment::StageDeployment;
use super::stage_form::StageForm;
use super::stage_serving::StageServingStatus;
use super::stage_throttling::StageThrottling;
use super::{CurrentApi, Reload, current_api_id, invoke_url, live_tick, sort_routes};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::copy_button::CopyButton;
use crate::components::delete_button::DeleteButton;
use crate::components::deployment_notice::DeploymentNotice;
use crate::components::error_banner::ErrorBanner;
use crate::components::relative_time::RelativeTime;

/// An API's stages: invoke URLs, variables, auto-deploy, deploying and rolling back, and
/// throttling.
#[component]
pub fn StagesPage() -> impl IntoView {
    let CurrentApi { api, .. } = expect_context::<CurrentApi>();
    let client = AdminClient::new();
    let reload = Reload::new();
    let base = format!("/v2/apis/{}", segment(&current_api_id()));
    let data = Resource::new(move || reload.track(), {
        let (base, client) = (base.clone(), client.clone());
        move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let stages = client.get::<Page<Stage>>(&format!("{base}/stages")).await?;
                let deployments = client
                    .get::<Page<Deployment>>(&format!("{base}/deployments?maxResults=500"))
                    .await?;
                // Throttling overrides are chosen by route key.
                let mut routes = client
                    .get::<Page<Route>>(&format!("{base}/routes?maxResults=500"))
                    .await?
                    .items;
                sort_routes(&mut routes);
                let route_keys = routes.into_iter().map(|r| r.route_key).collect::<Vec<_>>();
                Ok::<_, ApiFailure>((stages.items, deployments.items, route_keys))
            }
        }
    });
    // What the nodes serve moves on its own (they ACK, fall behind, reconnect), so it is
    // asked again every few seconds while the page is open.
    let tick = live_tick();
    let serving = Resource::new(move || (tick.get(), reload.track()), {
        let path = format!("/portico/apis/{}/serving", segment(&current_api_id()));
        move |_| {
            let (client, path) = (client.clone(), path.clone());
            async move { client.get::<ApiServing>(&path).await }
        }
    });
    let on_saved = Callback::new(move |()| reload.bump());
    let delete_error = RwSignal::new(None::<ApiFailure>);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new({
                let base = base.clone();
                async move {
                    let (api, data) = (api.await, data.await);
                    let ((stages, deployments, route_keys), api) = match (data, api) {
                        (Ok(d), Ok(api)) => (d, api),
                        (Err(e), _) | (_, Err(e)) => {
                            return view! { <ErrorBanner failure=Some(e)/> }.into_any();
                        }
                    };
                    let cards = stages
                        .into_iter()
                        .enumerate()
                        .map(|(n, stage)| {
                            // Stage names may hold `$`; ids by position are always unique.
                            let dom_id = format!("stage-{n}");
                            let editing = RwSignal::new(false);
                            let url = invoke_url(&api, &stage.stage_name);
                            let path = format!("{base}/stages/{}", segment(&stage.stage_name));
                            let vars = if stage.stage_variables.is_empty() {
                                "none".to_owned()
                            } else {
                                stage
                                    .stage_variables
                                    .iter()
                                    .map(|(k, v)| format!("{k}={v}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            };
                            let form_stage = stage.clone();
                            let id_prefix = format!("{dom_id}-edit");
                            let heading_id = format!("{dom_id}-heading");
                            let export_id = format!("{dom_id}-export");
                            let export_stage = Some(stage.stage_name.clone());
                            let labelled_by = heading_id.clone();
                            view! {
                                <section class="card stage" aria-labelledby=labelled_by data-stage=stage.stage_name.clone()>
                                    <h2 id=heading_id>{stage.stage_name.clone()}</h2>
                                    <DeploymentNotice message=stage.last_deployment_status_message.clone()/>
                                    <dl class="details">
                                        <dt>"Invoke URL"</dt>
                                        <dd><CopyButton text=url label="invoke URL"/></dd>
                                        <dt>"Description"</dt>
                                        <dd class="description">{stage.description.clone().unwrap_or_else(|| "—".into())}</dd>
                                        <dt>"Deployment"</dt>
                                        <dd class="mono deployment-id">{stage.deployment_id.clone().unwrap_or_else(|| "not deployed".into())}</dd>
                                        <dt>"Nodes serve"</dt>
                                        <dd>
                                            <StageServingStatus serving stage_name=stage.stage_name.clone() deployed=stage.deployment_id.clone()/>
                                        </dd>
                                        <dt>"Auto-deploy"</dt>
                                        <dd class="auto-deploy">{if stage.auto_deploy { "on" } else { "off" }}</dd>
                                        <dt>"Variables"</dt>
                                        <dd class="mono">{vars}</dd>
                                        <dt>"Last updated"</dt>
                                        <dd><RelativeTime at=stage.last_updated_date.clone()/></dd>
                                    </dl>
                                    <StageDeployment dom_id=dom_id.clone() stage=stage.clone() deployments=deployments.clone() on_saved/>
                                    <div class="actions">
                                        <button type="button" class="secondary" on:click=move |_| editing.update(|e| *e = !*e)>
                                            "Edit stage"
                                        </button>
                                        <DeleteButton path label="Delete stage" on_deleted=on_saved failure=delete_error/>
                                    </div>
                                    <Show when=move || editing.get()>
                                        <StageForm id_prefix=id_prefix.clone() existing=Some(form_stage.clone()) on_saved/>
                                    </Show>
                                    <ApiExport dom_id=export_id api_name=api.name.clone() stage=export_stage/>
                                    <StageThrottling dom_id=dom_id.clone() stage=stage.clone() route_keys=route_keys.clone() on_saved/>
                                </section>
                            }
                        })
                        .collect_view();
                    view! {
                        <ErrorBanner failure=delete_error/>
                        {cards}
                    }
                        .into_any()
                }
            })}
        </Transition>
        <section class="card">
            <h2>"Create a stage"</h2>
            <StageForm id_prefix="new" existing=None on_saved/>
        </section>
    }
}
