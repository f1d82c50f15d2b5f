use leptos::prelude::*;
use portico_model::{Deployment, Stage};
use serde_json::json;

use super::current_api_id;
use crate::client::{AdminClient, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::select_field::SelectField;

/// What a stage serves: deploy its API now, or point it at an earlier deployment (a
/// rollback).
#[component]
pub fn StageDeployment(
    /// Unique on the page, for element ids.
    #[prop(into)]
    dom_id: String,
    stage: Stage,
    deployments: Vec<Deployment>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let client = AdminClient::new();
    let api_id = current_api_id();
    let errors = FormErrors::new(&["deploymentId"]);
    // Never empty while there are deployments: what the drop-down shows is what is sent.
    let chosen = RwSignal::new(
        stage
            .deployment_id
            .clone()
            .or_else(|| deployments.first().map(|d| d.deployment_id.clone()))
            .unwrap_or_default(),
    );
    let id_prefix = format!("{dom_id}-deployment");
    let name = stage.stage_name.clone();
    let deploy = {
        let (client, api_id, name) = (client.clone(), api_id.clone(), name.clone());
        move |_| {
            errors.clear();
            let path = format!("/v2/apis/{}/deployments", segment(&api_id));
            let body = json!({ "stageName": name });
            let client = client.clone();
            leptos::task::spawn_local(async move {
                match client.post::<Deployment>(&path, body).await {
                    Ok(_) => on_saved.run(()),
                    Err(e) => errors.set(e),
                }
            });
        }
    };
    let roll_back = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let path = format!("/v2/apis/{}/stages/{}", segment(&api_id), segment(&name));
        let body = json!({ "deploymentId": chosen.get_untracked() });
        let client = client.clone();
        leptos::task::spawn_local(async move {
            match client.patch::<Stage>(&path, body).await {
                Ok(_) => on_saved.run(()),
                Err(e) => errors.set(e),
            }
        });
    };
    let options = deployments
        .iter()
        .map(|d| {
            let label = format!(
                "{} · {}{}",
                d.deployment_id,
                d.created_date,
                d.description
                    .as_deref()
                    .map(|s| format!(" · {s}"))
                    .unwrap_or_default()
            );
            (d.deployment_id.clone(), label)
        })
        .collect::<Vec<_>>();
    let has_deployments = !options.is_empty();
    view! {
        <div class="stage-deployment">
            <ErrorBanner failure=errors.general()/>
            <button type="button" class="secondary" on:click=deploy disabled=stage.auto_deploy
                title=if stage.auto_deploy { "This stage deploys automatically" } else { "Deploy the API's current routes and integrations" }>
                "Deploy now"
            </button>
            {has_deployments
                .then(|| {
                    view! {
                        <form class="inline-form" on:submit=roll_back>
                            <SelectField
                                id=id_prefix
                                label="Serve deployment"
                                field="deploymentId"
                                value=chosen
                                errors
                                options
                            />
                            <button type="submit" class="secondary">"Use this deployment"</button>
                        </form>
                    }
                })}
        </div>
    }
}
