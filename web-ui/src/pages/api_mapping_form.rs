//! The form that maps an API's stage onto a custom domain name under a key.
use leptos::prelude::*;
use portico_model::{Api, ApiMapping, validate_api_mapping_key};
use serde_json::{Value, json};

use crate::client::{ApiFailure, segment};
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// CreateApiMapping's request, with the key checked by the admin API's own rule.
pub(crate) fn mapping_body(api_id: &str, stage: &str, key: &str) -> Result<Value, ApiFailure> {
    if api_id.is_empty() {
        return Err(ApiFailure::invalid("apiId", "Pick the API to map"));
    }
    if stage.is_empty() {
        return Err(ApiFailure::invalid("stage", "Pick the stage to map"));
    }
    let key = key.trim();
    validate_api_mapping_key(key).map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    Ok(json!({ "apiId": api_id, "stage": stage, "apiMappingKey": key }))
}

/// Adds an API mapping to `domain`: an API, one of its stages, and the key (base path)
/// it answers under.
#[component]
pub fn ApiMappingForm(
    domain: String,
    apis: Vec<Api>,
    /// Each API's stage names, by API id.
    stages: std::collections::BTreeMap<String, Vec<String>>,
    on_saved: Callback<()>,
) -> impl IntoView {
    if apis.is_empty() {
        return view! {
            <p class="empty no-apis">
                "There is no API to map yet: " <a href="/apis">"create one"</a> " first."
            </p>
        }
        .into_any();
    }
    let api_id = RwSignal::new(apis[0].api_id.clone());
    let stage = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let state = FormState::new(&["apiId", "stage", "apiMappingKey"]);
    let errors = state.errors;
    let collection = format!("/v2/domainnames/{}/apimappings", segment(&domain));
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let body = match mapping_body(
                &api_id.get_untracked(),
                &stage.get_untracked(),
                &key.get_untracked(),
            ) {
                Ok(body) => body,
                Err(e) => return errors.set(e),
            };
            state.send(
                FormTarget::Create(collection.clone()),
                body,
                move |_: ApiMapping| {
                    key.set(String::new());
                    on_saved.run(());
                },
            );
        }
    });
    let api_options = apis
        .iter()
        .map(|a| (a.api_id.clone(), format!("{} ({})", a.name, a.api_id)))
        .collect::<Vec<_>>();
    let stage_error = errors.field("stage");
    view! {
        <ResourceForm class="api-mapping-form" state submit_label="Add API mapping" on_submit>
            <SelectField
                id="mapping-api"
                label="API"
                field="apiId"
                value=api_id
                errors
                options=api_options
            />
            {move || {
                let list = stages.get(&api_id.get()).cloned().unwrap_or_default();
                if list.is_empty() {
                    stage.set(String::new());
                    return view! {
                        <div class="field" data-field="stage">
                            <span class="label">"Stage"</span>
                            <p class="hint no-stages">
                                "This API has no stages yet: create one in its Stages tab."
                            </p>
                            <p class="field-error" role="alert">{move || stage_error.get()}</p>
                        </div>
                    }
                    .into_any();
                }
                if !list.iter().any(|s| stage.with_untracked(|picked| picked == s)) {
                    stage.set(list[0].clone());
                }
                let options = list.iter().map(|s| (s.clone(), s.clone())).collect::<Vec<_>>();
                view! {
                    <SelectField
                        id="mapping-stage"
                        label="Stage"
                        field="stage"
                        value=stage
                        errors
                        options
                    />
                }
                .into_any()
            }}
            <TextField
                id="mapping-key"
                label="API mapping key (optional)"
                field="apiMappingKey"
                value=key
                errors
                placeholder="v1"
                hint="Empty maps the domain's root; v1 or v1/orders map that base path, removed before routes match"
            />
        </ResourceForm>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_send_the_api_stage_and_checked_key() {
        assert_eq!(
            mapping_body("a1", "$default", " v1/orders ").expect("valid"),
            json!({ "apiId": "a1", "stage": "$default", "apiMappingKey": "v1/orders" })
        );
        assert_eq!(
            mapping_body("a1", "dev", "").expect("valid")["apiMappingKey"],
            ""
        );
        let field = |api: &str, stage: &str, key: &str| {
            mapping_body(api, stage, key)
                .expect_err("refused")
                .field
                .expect("a field")
        };
        assert_eq!(field("a1", "dev", "/v1"), "apiMappingKey");
        assert_eq!(field("a1", "dev", "v1//x"), "apiMappingKey");
        assert_eq!(field("", "dev", "v1"), "apiId");
        assert_eq!(field("a1", "", "v1"), "stage");
    }
}
