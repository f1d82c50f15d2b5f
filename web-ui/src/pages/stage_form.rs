use leptos::prelude::*;
use portico_model::Stage;
use serde_json::json;

use super::{current_api_id, parse_pairs};
use crate::client::segment;
use crate::components::checkbox_field::CheckboxField;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

/// Creates a stage, or edits `existing`: stage variables, auto-deploy and description.
#[component]
pub fn StageForm(
    #[prop(into)] id_prefix: String,
    existing: Option<Stage>,
    on_saved: Callback<()>,
) -> impl IntoView {
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
    let state = FormState::new(&["stageName", "autoDeploy", "stageVariables", "description"]);
    let errors = state.errors;
    let editing = existing.is_some();
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let mut vars = match parse_pairs(&variables.get_untracked(), '=', "stageVariables") {
                Ok(v) => v,
                Err(e) => return errors.set(e),
            };
            let name = stage_name.get_untracked().trim().to_owned();
            let stages = format!("/v2/apis/{}/stages", segment(&api_id));
            let mut body = json!({ "autoDeploy": auto_deploy.get_untracked() });
            let d = description.get_untracked();
            if !d.is_empty() || editing {
                body["description"] = json!(d);
            }
            let to = if editing {
                // PATCH merges variables: a name sent empty is removed.
                for old in old_variables.keys() {
                    vars.entry(old.clone()).or_default();
                }
                body["stageVariables"] = json!(vars);
                FormTarget::Save(format!("{stages}/{}", segment(&name)))
            } else {
                body["stageName"] = json!(name);
                if !vars.is_empty() {
                    body["stageVariables"] = json!(vars);
                }
                FormTarget::Create(stages)
            };
            state.send(to, body, move |_: Stage| {
                if !editing {
                    stage_name.set(String::new());
                    variables.set(String::new());
                    description.set(String::new());
                }
                on_saved.run(());
            });
        }
    });
    let label = if editing {
        "Save stage"
    } else {
        "Create stage"
    };
    view! {
        <ResourceForm class="stage-form" state submit_label=label on_submit>
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
        </ResourceForm>
    }
}
