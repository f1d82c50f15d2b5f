use leptos::prelude::*;
use portico_model::{
    AUTHORIZATION_AWS_IAM, AUTHORIZATION_CUSTOM, AUTHORIZATION_JWT, AUTHORIZATION_NONE,
    AUTHORIZER_JWT, AUTHORIZER_REQUEST, Authorizer, Integration, Route,
    validate_route_authorization,
};
use serde_json::json;

use super::current_api_id;
use crate::client::{ApiFailure, segment};
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

/// The kind of authorizer a route's `authorizationType` needs, if any.
pub(crate) fn authorizer_kind(authorization_type: &str) -> Option<&'static str> {
    match authorization_type {
        AUTHORIZATION_JWT => Some(AUTHORIZER_JWT),
        AUTHORIZATION_CUSTOM => Some(AUTHORIZER_REQUEST),
        _ => None,
    }
}

/// Scopes as typed: separated by spaces or lines.
fn parse_scopes(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// Creates a route, or edits `existing`: its route key, the integration it targets, and
/// how callers are authorized (none, a JWT authorizer with scopes, a Lambda authorizer,
/// or IAM).
#[component]
pub fn RouteForm(
    #[prop(into)] id_prefix: String,
    existing: Option<Route>,
    integrations: Vec<Integration>,
    authorizers: Vec<Authorizer>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let api_id = current_api_id();
    let route_key = RwSignal::new(
        existing
            .as_ref()
            .map(|r| r.route_key.clone())
            .unwrap_or_default(),
    );
    let target = RwSignal::new(
        existing
            .as_ref()
            .and_then(|r| r.target.clone())
            .or_else(|| {
                integrations
                    .first()
                    .map(|i| format!("integrations/{}", i.integration_id))
            })
            .unwrap_or_default(),
    );
    let authorization = RwSignal::new(
        existing
            .as_ref()
            .map_or(AUTHORIZATION_NONE.to_owned(), |r| {
                r.authorization_type.clone()
            }),
    );
    let authorizers = StoredValue::new(authorizers);
    // The (id, label) of the API's authorizers of `kind`.
    let of_kind = move |kind: &str| -> Vec<(String, String)> {
        authorizers.with_value(|all| {
            all.iter()
                .filter(|a| a.authorizer_type == kind)
                .map(|a| {
                    (
                        a.authorizer_id.clone(),
                        format!("{} ({})", a.name, a.authorizer_id),
                    )
                })
                .collect()
        })
    };
    let first_of = move |t: &str| {
        authorizer_kind(t)
            .and_then(|k| of_kind(k).into_iter().next())
            .map(|(id, _)| id)
    };
    let authorizer_id = RwSignal::new(
        existing
            .as_ref()
            .and_then(|r| r.authorizer_id.clone())
            .or_else(|| first_of(&authorization.get_untracked()))
            .unwrap_or_default(),
    );
    // Another kind of authorization starts from the first authorizer of its kind.
    Effect::new(move |_| {
        let t = authorization.get();
        if let Some(kind) = authorizer_kind(&t) {
            let current = authorizer_id.get_untracked();
            if !of_kind(kind).iter().any(|(id, _)| *id == current) {
                authorizer_id.set(first_of(&t).unwrap_or_default());
            }
        }
    });
    let scopes = RwSignal::new(
        existing
            .as_ref()
            .map(|r| r.authorization_scopes.join(" "))
            .unwrap_or_default(),
    );
    let state = FormState::new(&[
        "routeKey",
        "target",
        "authorizationType",
        "authorizerId",
        "authorizationScopes",
    ]);
    let errors = state.errors;
    let route_id = existing.as_ref().map(|r| r.route_id.clone());
    let editing = route_id.is_some();
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let mut body = json!({ "routeKey": route_key.get_untracked().trim() });
            // On edit an empty target is sent: that is how the API removes it.
            let t = target.get_untracked();
            if !t.is_empty() || editing {
                body["target"] = json!(t);
            }
            let kind = authorization.get_untracked();
            let needs_authorizer = authorizer_kind(&kind).is_some();
            let id = authorizer_id.get_untracked();
            let id = (needs_authorizer && !id.is_empty()).then_some(id);
            let scopes = if kind == AUTHORIZATION_JWT {
                parse_scopes(&scopes.get_untracked())
            } else {
                Vec::new()
            };
            // Checked as the admin API checks it, so the message shows beside its field.
            let known = |id: &str| {
                authorizers.with_value(|all| {
                    all.iter()
                        .find(|a| a.authorizer_id == id)
                        .map(|a| a.authorizer_type.clone())
                })
            };
            if let Err(e) = validate_route_authorization(&kind, id.as_deref(), &scopes, known) {
                return errors.set(ApiFailure::invalid(e.field, e.message));
            }
            if editing || kind != AUTHORIZATION_NONE {
                body["authorizationType"] = json!(kind);
            }
            // On edit, NONE and IAM send the authorizer and scopes empty: they go.
            if editing || id.is_some() {
                body["authorizerId"] = json!(id.unwrap_or_default());
            }
            if editing || !scopes.is_empty() {
                body["authorizationScopes"] = json!(scopes);
            }
            let routes = format!("/v2/apis/{}/routes", segment(&api_id));
            let to = match &route_id {
                Some(id) => FormTarget::Save(format!("{routes}/{}", segment(id))),
                None => FormTarget::Create(routes),
            };
            state.send(to, body, move |_: Route| {
                if !editing {
                    route_key.set(String::new());
                }
                on_saved.run(());
            });
        }
    });
    let mut options = vec![(String::new(), "No integration".to_owned())];
    options.extend(integrations.into_iter().map(|i| {
        (
            format!("integrations/{}", i.integration_id),
            format!(
                "{} {} ({})",
                i.integration_method, i.integration_uri, i.integration_id
            ),
        )
    }));
    let authorization_options = vec![
        (AUTHORIZATION_NONE.to_owned(), "None".to_owned()),
        (AUTHORIZATION_JWT.to_owned(), "JWT authorizer".to_owned()),
        (
            AUTHORIZATION_CUSTOM.to_owned(),
            "Lambda authorizer".to_owned(),
        ),
        (AUTHORIZATION_AWS_IAM.to_owned(), "IAM (AWS_IAM)".to_owned()),
    ];
    let authorizer_select = {
        let id_prefix = id_prefix.clone();
        move || {
            let t = authorization.get();
            let kind = authorizer_kind(&t)?;
            let options = of_kind(kind);
            let id = format!("{id_prefix}-authorizer");
            if options.is_empty() {
                let missing = if kind == AUTHORIZER_JWT {
                    "This API has no JWT authorizer yet: create one in Authorizers."
                } else {
                    "This API has no Lambda authorizer yet: create one in Authorizers."
                };
                let error = errors.field("authorizerId");
                return Some(
                    view! {
                        <div class="field" data-field="authorizerId">
                            <span class="label">"Authorizer"</span>
                            <p class="hint no-authorizer" id=id>{missing}</p>
                            <p class="field-error" role="alert">{move || error.get()}</p>
                        </div>
                    }
                    .into_any(),
                );
            }
            Some(
                view! {
                    <SelectField
                        id
                        label="Authorizer"
                        field="authorizerId"
                        value=authorizer_id
                        errors
                        options
                    />
                }
                .into_any(),
            )
        }
    };
    let label = if editing {
        "Save route"
    } else {
        "Create route"
    };
    view! {
        <ResourceForm class="route-form" state submit_label=label on_submit>
            <TextField
                id=format!("{id_prefix}-route-key")
                label="Route key"
                field="routeKey"
                value=route_key
                errors
                placeholder="GET /notes/{id}"
                hint="METHOD /path with {param} or a final {proxy+}, ANY for every method, or $default"
                required=true
            />
            <SelectField
                id=format!("{id_prefix}-target")
                label="Integration"
                field="target"
                value=target
                errors
                options
            />
            <SelectField
                id=format!("{id_prefix}-authorization-type")
                label="Authorization"
                field="authorizationType"
                value=authorization
                errors
                options=authorization_options
            />
            {authorizer_select}
            <Show when=move || authorization.with(|t| t == AUTHORIZATION_JWT)>
                <TextAreaField
                    id=format!("{id_prefix}-scopes")
                    label="Authorization scopes"
                    field="authorizationScopes"
                    value=scopes
                    errors
                    placeholder="notes/read"
                    hint="Separated by spaces or lines; the token's scope claim must hold one. Empty: any token of the authorizer"
                    rows=2
                />
            </Show>
        </ResourceForm>
    }
}

/// How a route's callers are authorized, as the routes table says it: `JWT: cognito
/// (notes/read)`, `Lambda: name`, `IAM`, or `—`.
pub(crate) fn describe_authorization(route: &Route, authorizers: &[Authorizer]) -> String {
    let name = || {
        let id = route.authorizer_id.clone().unwrap_or_default();
        authorizers
            .iter()
            .find(|a| a.authorizer_id == id)
            .map_or(id, |a| a.name.clone())
    };
    match route.authorization_type.as_str() {
        AUTHORIZATION_JWT if route.authorization_scopes.is_empty() => format!("JWT: {}", name()),
        AUTHORIZATION_JWT => format!(
            "JWT: {} ({})",
            name(),
            route.authorization_scopes.join(", ")
        ),
        AUTHORIZATION_CUSTOM => format!("Lambda: {}", name()),
        AUTHORIZATION_AWS_IAM => "IAM".into(),
        AUTHORIZATION_NONE => "—".into(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_reads_as_the_routes_table_shows_it() {
        let authorizer = Authorizer {
            authorizer_id: "j1".into(),
            name: "cognito".into(),
            authorizer_type: "JWT".into(),
            identity_source: vec![],
            jwt_configuration: None,
            authorizer_uri: None,
            authorizer_payload_format_version: None,
            enable_simple_responses: None,
            authorizer_result_ttl_in_seconds: None,
            authorizer_credentials_arn: None,
        };
        let route = |t: &str, id: Option<&str>, scopes: &[&str]| Route {
            route_id: "r".into(),
            route_key: "GET /notes".into(),
            target: None,
            authorization_type: t.into(),
            authorizer_id: id.map(str::to_owned),
            authorization_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            api_key_required: false,
            operation_name: None,
        };
        let all = [authorizer];
        let say = |r: Route| describe_authorization(&r, &all);
        assert_eq!(
            say(route("JWT", Some("j1"), &["notes/read", "notes/write"])),
            "JWT: cognito (notes/read, notes/write)"
        );
        assert_eq!(say(route("JWT", Some("j1"), &[])), "JWT: cognito");
        assert_eq!(say(route("CUSTOM", Some("gone"), &[])), "Lambda: gone");
        assert_eq!(say(route("AWS_IAM", None, &[])), "IAM");
        assert_eq!(say(route("NONE", None, &[])), "—");
        assert_eq!(parse_scopes(" a b\nc \n"), ["a", "b", "c"]);
    }
}
