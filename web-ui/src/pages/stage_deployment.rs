use leptos::prelude::*;
use portico_model::{ApiDiff, Deployment, Stage};
use serde_json::json;

use super::current_api_id;
use super::deployment_diff::{DiffSummary, load_diff};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::select_field::SelectField;

/// A change to what a stage serves, held until its diff has been seen.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    /// Deploy the API as it is now.
    Deploy,
    /// Serve this earlier deployment.
    RollBack(String),
}

/// What the review of a pending change shows.
#[derive(Debug, Clone, PartialEq)]
enum Review {
    Loading,
    Diff(ApiDiff),
    /// The stage serves no deployment yet, so there is nothing to compare with.
    FirstDeployment,
    /// The diff could not be had; the change can still be made.
    Failed(ApiFailure),
}

/// What a stage serves: deploy its API now, or point it at an earlier deployment (a
/// rollback). Either first shows what would change on the stage, and happens once
/// confirmed.
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
    let pending = RwSignal::new(None::<(Pending, Review)>);
    let busy = RwSignal::new(false);
    let id_prefix = format!("{dom_id}-deployment");
    let name = stage.stage_name.clone();
    let serving = stage.deployment_id.clone();

    // Opens the review of `change` and loads its diff against what the stage serves.
    let review = {
        let (client, api_id) = (client.clone(), api_id.clone());
        move |change: Pending| {
            errors.clear();
            let Some(from) = serving.clone() else {
                pending.set(Some((change, Review::FirstDeployment)));
                return;
            };
            let to = match &change {
                Pending::Deploy => "current".to_owned(),
                Pending::RollBack(id) => id.clone(),
            };
            pending.set(Some((change.clone(), Review::Loading)));
            let (client, api_id) = (client.clone(), api_id.clone());
            leptos::task::spawn_local(async move {
                let shown = match load_diff(&client, &api_id, &from, &to).await {
                    Ok(diff) => Review::Diff(diff),
                    Err(e) => Review::Failed(e),
                };
                // A review closed or replaced while its diff loaded stays as it is now.
                pending.update(|p| {
                    if let Some((c, r)) = p
                        && *c == change
                    {
                        *r = shown;
                    }
                });
            });
        }
    };
    let on_deploy = {
        let review = review.clone();
        move |_| review(Pending::Deploy)
    };
    let on_roll_back = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        review(Pending::RollBack(chosen.get_untracked()));
    };
    let confirm = move |_| {
        let Some((change, _)) = pending.get_untracked() else {
            return;
        };
        errors.clear();
        busy.set(true);
        let (client, api_id, name) = (client.clone(), api_id.clone(), name.clone());
        leptos::task::spawn_local(async move {
            let result = match change {
                Pending::Deploy => {
                    let path = format!("/v2/apis/{}/deployments", segment(&api_id));
                    let body = json!({ "stageName": name });
                    client.post::<Deployment>(&path, body).await.map(|_| ())
                }
                Pending::RollBack(id) => {
                    let path = format!("/v2/apis/{}/stages/{}", segment(&api_id), segment(&name));
                    let body = json!({ "deploymentId": id });
                    client.patch::<Stage>(&path, body).await.map(|_| ())
                }
            };
            busy.set(false);
            match result {
                Ok(()) => {
                    pending.set(None);
                    on_saved.run(());
                }
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
    let stage_name = stage.stage_name.clone();
    let review_panel = move || {
        let (change, review) = pending.get()?;
        let (action, heading, confirm_label) = match &change {
            Pending::Deploy => (
                "deploy",
                format!("Deploying to {stage_name} would change"),
                "Confirm and deploy",
            ),
            Pending::RollBack(id) => (
                "rollback",
                format!("Serving {id} on {stage_name} would change"),
                "Confirm and switch",
            ),
        };
        let label = heading.clone();
        let body = match review {
            Review::Loading => view! { <p class="loading">"Comparing…"</p> }.into_any(),
            Review::Diff(diff) => view! { <DiffSummary diff/> }.into_any(),
            Review::FirstDeployment => view! {
                <p class="first-deployment">
                    "Nothing is deployed to this stage yet: everything goes live."
                </p>
            }
            .into_any(),
            Review::Failed(failure) => view! {
                <p class="muted">"The changes could not be compared:"</p>
                <ErrorBanner failure=Some(failure)/>
            }
            .into_any(),
        };
        Some(view! {
            <div class="deploy-review" data-action=action role="region" aria-label=label>
                <h3>{heading}</h3>
                {body}
                <div class="actions">
                    <button type="button" class="primary" on:click=confirm.clone() disabled=move || busy.get()>
                        {confirm_label}
                    </button>
                    <button type="button" class="secondary" on:click=move |_| pending.set(None)>
                        "Cancel"
                    </button>
                </div>
            </div>
        })
    };
    view! {
        <div class="stage-deployment">
            <ErrorBanner failure=errors.general()/>
            <button type="button" class="secondary" on:click=on_deploy disabled=stage.auto_deploy
                title=if stage.auto_deploy { "This stage deploys automatically" } else { "Deploy the API's current routes and integrations" }>
                "Deploy now"
            </button>
            {has_deployments
                .then(|| {
                    view! {
                        <form class="inline-form" on:submit=on_roll_back>
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
        {review_panel}
    }
}
