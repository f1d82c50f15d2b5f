use leptos::prelude::*;
use portico_model::openapi::ImportPlan;
use portico_model::{CreateAuthorizer, CreateIntegration};

/// An integration in a line: its type, method (for HTTP) and URI.
pub(crate) fn describe_integration(integration: &CreateIntegration) -> String {
    let uri = integration.integration_uri.as_deref().unwrap_or("—");
    match integration.integration_method.as_deref() {
        Some(method) => format!("{} {method} {uri}", integration.integration_type),
        None => format!("{} {uri}", integration.integration_type),
    }
}

/// A planned route's authorization: the type, the authorizer by name, the scopes.
fn describe_authorization(
    kind: &str,
    authorizer: Option<&CreateAuthorizer>,
    scopes: &[String],
) -> String {
    let mut said = kind.to_owned();
    if let Some(a) = authorizer {
        said.push_str(&format!(" ({})", a.name));
    }
    if !scopes.is_empty() {
        said.push_str(&format!(", scopes {}", scopes.join(" ")));
    }
    said
}

/// Where an authorizer finds the caller's identity, and who it trusts.
fn describe_authorizer(a: &CreateAuthorizer) -> String {
    match &a.jwt_configuration {
        Some(jwt) => format!(
            "issuer {}, audience {}",
            jwt.issuer.as_deref().unwrap_or("—"),
            if jwt.audience.is_empty() {
                "—".to_owned()
            } else {
                jwt.audience.join(", ")
            }
        ),
        None => a.authorizer_uri.clone().unwrap_or_else(|| "—".into()),
    }
}

/// What an import would create, as `plan_import` read it from the document: the API, its
/// routes with their integrations and authorization, the integrations and authorizers,
/// CORS, and what the import leaves out (the warnings).
#[component]
pub fn ImportReview(plan: ImportPlan) -> impl IntoView {
    let cors = match &plan.cors_configuration {
        None => "no".to_owned(),
        Some(c) => match &c.allow_origins {
            Some(origins) if !origins.is_empty() => format!("yes, for {}", origins.join(", ")),
            _ => "yes".to_owned(),
        },
    };
    let tags = if plan.tags.is_empty() {
        "none".to_owned()
    } else {
        plan.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let routes = plan
        .routes
        .iter()
        .map(|r| {
            let integration = r
                .integration
                .and_then(|i| plan.integrations.get(i))
                .map(describe_integration)
                .unwrap_or_else(|| "—".into());
            let authorizer = r.authorizer.and_then(|i| plan.authorizers.get(i));
            let authorization =
                describe_authorization(&r.authorization_type, authorizer, &r.authorization_scopes);
            view! {
                <tr>
                    <td class="mono route-key">{r.route_key.clone()}</td>
                    <td class="mono integration">{integration}</td>
                    <td class="authorization">{authorization}</td>
                </tr>
            }
        })
        .collect_view();
    let integrations = plan
        .integrations
        .iter()
        .enumerate()
        .map(|(n, i)| {
            view! {
                <tr>
                    <td>{n + 1}</td>
                    <td>{i.integration_type.clone()}</td>
                    <td class="mono">{i.integration_method.clone().unwrap_or_else(|| "—".into())}</td>
                    <td class="mono uri">{i.integration_uri.clone().unwrap_or_else(|| "—".into())}</td>
                    <td>{i.payload_format_version.clone().unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    let authorizers = plan
        .authorizers
        .iter()
        .map(|a| {
            view! {
                <tr>
                    <td class="authorizer-name">{a.name.clone()}</td>
                    <td>{a.authorizer_type.clone()}</td>
                    <td class="mono">{a.identity_source.clone().unwrap_or_default().join(", ")}</td>
                    <td class="mono uri">{describe_authorizer(a)}</td>
                </tr>
            }
        })
        .collect_view();
    let warnings = if plan.warnings.is_empty() {
        view! { <p class="empty no-warnings">"No warnings: everything in the document is imported."</p> }
            .into_any()
    } else {
        let items = plan
            .warnings
            .iter()
            .map(|w| view! { <li class="mono">{w.clone()}</li> })
            .collect_view();
        view! { <ul class="import-warnings">{items}</ul> }.into_any()
    };
    let (route_count, integration_count, authorizer_count, warning_count) = (
        plan.routes.len(),
        plan.integrations.len(),
        plan.authorizers.len(),
        plan.warnings.len(),
    );
    view! {
        <div class="import-review">
            <dl class="details">
                <dt>"Name"</dt>
                <dd class="import-name">{plan.name.clone()}</dd>
                <dt>"Description"</dt>
                <dd>{plan.description.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Version"</dt>
                <dd>{plan.version.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"CORS"</dt>
                <dd class="import-cors">{cors}</dd>
                <dt>"Tags"</dt>
                <dd class="mono import-tags">{tags}</dd>
                <dt>"Default endpoint"</dt>
                <dd>{if plan.disable_execute_api_endpoint { "disabled" } else { "enabled" }}</dd>
            </dl>
            <h3>{format!("Routes ({route_count})")}</h3>
            <div class="table-wrap">
                <table class="import-routes">
                    <thead>
                        <tr>
                            <th scope="col">"Route key"</th>
                            <th scope="col">"Integration"</th>
                            <th scope="col">"Authorization"</th>
                        </tr>
                    </thead>
                    <tbody>{routes}</tbody>
                </table>
            </div>
            <h3>{format!("Integrations ({integration_count})")}</h3>
            <div class="table-wrap" class:hidden=integration_count == 0>
                <table class="import-integrations">
                    <thead>
                        <tr>
                            <th scope="col">"#"</th>
                            <th scope="col">"Type"</th>
                            <th scope="col">"Method"</th>
                            <th scope="col">"URI"</th>
                            <th scope="col">"Payload format"</th>
                        </tr>
                    </thead>
                    <tbody>{integrations}</tbody>
                </table>
            </div>
            <h3>{format!("Authorizers ({authorizer_count})")}</h3>
            <div class="table-wrap" class:hidden=authorizer_count == 0>
                <table class="import-authorizers">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Type"</th>
                            <th scope="col">"Identity source"</th>
                            <th scope="col">"Trusts"</th>
                        </tr>
                    </thead>
                    <tbody>{authorizers}</tbody>
                </table>
            </div>
            <h3>{format!("Warnings ({warning_count})")}</h3>
            {warnings}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrations_and_authorization_read_as_a_line() {
        let http = CreateIntegration {
            integration_type: "HTTP_PROXY".into(),
            integration_uri: Some("https://backend.example/notes".into()),
            integration_method: Some("GET".into()),
            ..Default::default()
        };
        assert_eq!(
            describe_integration(&http),
            "HTTP_PROXY GET https://backend.example/notes"
        );
        let lambda = CreateIntegration {
            integration_type: "AWS_PROXY".into(),
            integration_uri: Some("arn:aws:lambda:us-east-1:123456789012:function:f".into()),
            ..Default::default()
        };
        assert_eq!(
            describe_integration(&lambda),
            "AWS_PROXY arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        let jwt = CreateAuthorizer {
            name: "cognito".into(),
            authorizer_type: "JWT".into(),
            ..Default::default()
        };
        assert_eq!(
            describe_authorization("JWT", Some(&jwt), &["read".into(), "write".into()]),
            "JWT (cognito), scopes read write"
        );
        assert_eq!(describe_authorization("NONE", None, &[]), "NONE");
    }
}
