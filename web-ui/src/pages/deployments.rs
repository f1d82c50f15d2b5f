use leptos::prelude::*;
use portico_model::{Deployment, Page, Stage};
use serde_json::json;

use super::{Reload, current_api_id};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::relative_time::RelativeTime;
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// An API's deployments, which stage serves each, and a form to deploy.
#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let client = AdminClient::new();
    let reload = Reload::new();
    let base = format!("/v2/apis/{}", segment(&current_api_id()));
    let data = Resource::new(move || reload.track(), {
        let (client, base) = (client.clone(), base.clone());
        move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let deployments = client
                    .get::<Page<Deployment>>(&format!("{base}/deployments?maxResults=500"))
                    .await?;
                let stages = client.get::<Page<Stage>>(&format!("{base}/stages")).await?;
                Ok::<_, ApiFailure>((deployments.items, stages.items))
            }
        }
    });
    let stage_name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let errors = FormErrors::new(&["stageName", "description"]);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let mut body = json!({});
        let (s, d) = (stage_name.get_untracked(), description.get_untracked());
        if !s.is_empty() {
            body["stageName"] = json!(s);
        }
        if !d.is_empty() {
            body["description"] = json!(d);
        }
        let (client, path) = (client.clone(), format!("{base}/deployments"));
        leptos::task::spawn_local(async move {
            match client.post::<Deployment>(&path, body).await {
                Ok(_) => {
                    description.set(String::new());
                    reload.bump();
                }
                Err(e) => errors.set(e),
            }
        });
    };
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let on_submit = on_submit.clone();
                Suspend::new(async move {
                let (mut deployments, stages) = match data.await {
                    Ok(d) => d,
                    Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                };
                // Newest first; the dates are RFC 3339 in UTC, so text order is time order.
                deployments.sort_by(|a, b| b.created_date.cmp(&a.created_date));
                let rows = deployments
                    .into_iter()
                    .map(|d| {
                        let serving = stages
                            .iter()
                            .filter(|s| s.deployment_id.as_deref() == Some(&d.deployment_id))
                            .map(|s| s.stage_name.clone())
                            .collect::<Vec<_>>()
                            .join(", ");
                        view! {
                            <tr>
                                <td class="mono">{d.deployment_id}</td>
                                <td>{d.deployment_status}</td>
                                <td><RelativeTime at=d.created_date/></td>
                                <td>{d.description}</td>
                                <td>{if d.auto_deployed { "automatic" } else { "by hand" }}</td>
                                <td>{serving}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                let mut options = vec![(String::new(), "No stage (deploy only)".to_owned())];
                options.extend(
                    stages
                        .iter()
                        .filter(|s| !s.auto_deploy)
                        .map(|s| (s.stage_name.clone(), s.stage_name.clone())),
                );
                view! {
                    <section class="card">
                        <h2>"Deployments"</h2>
                        <div class="table-wrap">
                            <table>
                                <thead>
                                    <tr>
                                        <th scope="col">"ID"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Created"</th>
                                        <th scope="col">"Description"</th>
                                        <th scope="col">"Made"</th>
                                        <th scope="col">"Serving stages"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    </section>
                    <section class="card">
                        <h2>"Deploy"</h2>
                        <p class="muted">
                            "Freezes the API's routes and integrations. Stages with auto-deploy redeploy by themselves; roll a stage back from the Stages tab."
                        </p>
                        <form on:submit=on_submit>
                            <ErrorBanner failure=errors.general()/>
                            <div class="form-grid">
                                <SelectField id="deploy-stage" label="Stage" field="stageName" value=stage_name errors options/>
                                <TextField id="deploy-description" label="Description" field="description" value=description errors/>
                            </div>
                            <button type="submit" class="primary">"Deploy"</button>
                        </form>
                    </section>
                }
                    .into_any()
            })
            }}
        </Transition>
    }
}
