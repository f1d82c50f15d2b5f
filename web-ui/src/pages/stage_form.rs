use leptos::prelude::*;
use portico_model::Stage;
use serde_json::json;

use super::{current_api_id, parse_pairs};
use crate::client::{AdminClient, segment};
use crate::components::checkbox_field::CheckboxField;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

/// Creates a stage, or edits `existing`: stage variables, auto-deploy and description.
#[component]
pub fn StageForm(
    #[prop(into)] id_prefix: String,
    existing: Option<Stage>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let client = AdminClient::new();
    let api_id = current_api_id();
    let stage_name = RwSignal::new(
        existing
            .as_ref()
            .map(|s| s.stage_name.clone())
            .unwrap_or_default(),
    );
    let auto_deploy = RwSignal::new(existing.as_ref().is_none_or(|s| s.auto_deploy));
    let old_variables = existing
        .as_ref()
        .map(|s| s.stage_variables.clone())
        .unwrap_or_default();
    let variables = RwSignal::new(
        old_variables
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let description = RwSignal::new(
        existing
            .as_ref()
            .and_then(|s| s.description.clone())
            .unwrap_or_default(),
    );
    let errors = FormErrors::new(&["stageName", "autoDeploy", "stageVariables", "description"]);
    let busy = RwSignal::new(false);
    let editing = existing.is_some();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let mut vars = match parse_pairs(&variables.get_untracked(), '=', "stageVariables") {
            Ok(v) => v,
            Err(e) => return errors.set(e),
        };
        busy.set(true);
        let name = stage_name.get_untracked().trim().to_owned();
        let stages = format!("/v2/apis/{}/stages", segment(&api_id));
        let client = client.clone();
        let mut body = json!({ "autoDeploy": auto_deploy.get_untracked() });
        let d = description.get_untracked();
        if !d.is_empty() || editing {
            body["description"] = json!(d);
        }
        let request = if editing {
            // PATCH merges variables: a name sent empty is removed.
            for old in old_variables.keys() {
                vars.entry(old.clone()).or_default();
            }
            body["stageVariables"] = json!(vars);
            (true, format!("{stages}/{}", segment(&name)))
        } else {
            body["stageName"] = json!(name);
            if !vars.is_empty() {
                body["stageVariables"] = json!(vars);
            }
            (false, stages)
        };
        leptos::task::spawn_local(async move {
            let result = match request {
                (true, path) => client.patch::<Stage>(&path, body).await,
                (false, path) => client.post::<Stage>(&path, body).await,
            };
            busy.set(false);
            match result {
                Ok(_) => {
                    if !editing {
                        stage_name.set(String::new());
                        variables.set(String::new());
                        description.set(String::new());
                    }
                    on_saved.run(());
                }
                Err(e) => errors.set(e),
            }
        });
    };
    view! {
        <form class="stage-form" on:submit=on_submit>
            <ErrorBanner failure=errors.general()/>
            <div class="form-grid">
                {(!editing)
                    .then(|| {
                        view! {
                            <TextField
                                id=format!("{id_prefix}-stage-name")
                                label="Stage name"
                                field="stageName"
                                value=stage_name
                                errors
                                placeholder="dev"
                                hint="Letters, digits, - and _, or $default for no path prefix"
                                required=true
                            />
                        }
                    })}
                <TextField
                    id=format!("{id_prefix}-stage-description")
                    label="Description"
                    field="description"
                    value=description
                    errors
                />
                <TextAreaField
                    id=format!("{id_prefix}-stage-variables")
                    label="Stage variables"
                    field="stageVariables"
                    value=variables
                    errors
                    placeholder="backend=127.0.0.1:3000"
                    hint="One name=value per line; use them as ${stageVariables.name} in integration URIs"
                    rows=3
                />
                <CheckboxField
                    id=format!("{id_prefix}-auto-deploy")
                    label="Deploy automatically on every change"
                    field="autoDeploy"
                    value=auto_deploy
                    errors
                />
            </div>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {if editing { "Save stage" } else { "Create stage" }}
            </button>
        </form>
    }
}
