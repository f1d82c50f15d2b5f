use leptos::prelude::*;
use portico_model::{AUTHORIZER_JWT, Authorizer};

use super::authorizer_form::AuthorizerForm;
use super::integrations::function_label;
use super::{Reload, current_api_id, with_routes};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::resource_table::{ResourceRow, ResourceTable};

/// An API's authorizers (JWT issuers and Lambda functions), each with the routes it
/// guards: list, create, edit and delete.
#[component]
pub fn AuthorizersPage() -> impl IntoView {
    let client = AdminClient::new();
    let reload = Reload::new();
    let api = format!("/v2/apis/{}", segment(&current_api_id()));
    let base = format!("{api}/authorizers");
    let authorizers = Resource::new(move || reload.track(), {
        let api = api.clone();
        move |_| {
            let (client, api) = (client.clone(), api.clone());
            async move { with_routes::<Authorizer>(&client, &api, "authorizers").await }
        }
    });
    let on_saved = Callback::new(move |()| reload.bump());
    let delete_error = RwSignal::new(None::<ApiFailure>);
    view! {
        <section class="card">
            <h2>"Authorizers"</h2>
            <ErrorBanner failure=delete_error/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new({
                    let base = base.clone();
                    async move {
                        let (items, routes) = match authorizers.await {
                            Ok(data) => data,
                            Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                        };
                        if items.is_empty() {
                            return view! {
                                <p class="empty">"No authorizers yet. Create one below."</p>
                            }
                                .into_any();
                        }
                        let rows = items
                            .into_iter()
                            .map(|a| {
                                let path = format!("{base}/{}", segment(&a.authorizer_id));
                                let used_by = routes
                                    .iter()
                                    .filter(|r| r.authorizer_id.as_deref() == Some(a.authorizer_id.as_str()))
                                    .map(|r| view! { <li class="mono">{r.route_key.clone()}</li> })
                                    .collect_view();
                                let sources = a
                                    .identity_source
                                    .iter()
                                    .map(|s| view! { <li>{s.clone()}</li> })
                                    .collect_view();
                                let settings = settings_cells(&a);
                                let existing = a.clone();
                                let id_prefix = format!("authorizer-{}", a.authorizer_id);
                                let edit = move || {
                                    view! {
                                        <AuthorizerForm id_prefix=id_prefix.clone() existing=Some(existing.clone()) on_saved/>
                                    }
                                };
                                view! {
                                    <ResourceRow columns=8 delete_path=path on_deleted=on_saved delete_failure=delete_error edit>
                                        <td class="authorizer-name">{a.name.clone()}</td>
                                        {settings}
                                        <td class="mono identity-source"><ul class="plain">{sources}</ul></td>
                                        <td class="mono">{a.authorizer_id.clone()}</td>
                                        <td class="used-by"><ul class="plain">{used_by}</ul></td>
                                    </ResourceRow>
                                }
                            })
                            .collect_view();
                        view! {
                            <ResourceTable headers=&["Name", "Type", "Issuer or function", "Audience or settings", "Identity source", "ID", "Used by routes"]>
                                {rows}
                            </ResourceTable>
                        }
                            .into_any()
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Create an authorizer"</h2>
            <AuthorizerForm id_prefix="new-authorizer" existing=None on_saved/>
        </section>
    }
}

/// The type, what checks the caller (the issuer, or the function) and what else it is
/// configured with (the audiences, or the payload version, simple responses and TTL).
fn settings_cells(a: &Authorizer) -> AnyView {
    if a.authorizer_type == AUTHORIZER_JWT {
        let jwt = a.jwt_configuration.clone().unwrap_or_default();
        return view! {
            <td class="authorizer-type">"JWT"</td>
            <td class="mono issuer uri">{jwt.issuer.unwrap_or_default()}</td>
            <td class="mono audience">{jwt.audience.join(", ")}</td>
        }
        .into_any();
    }
    let uri = a.authorizer_uri.clone().unwrap_or_default();
    view! {
        <td class="authorizer-type">"Lambda"</td>
        <td class="mono function" title=uri.clone()>{function_label(&uri)}</td>
        <td class="lambda-settings">{lambda_settings(a)}</td>
    }
    .into_any()
}

/// `payload 2.0 · simple responses · cached 300 s`.
fn lambda_settings(a: &Authorizer) -> String {
    let mut parts = vec![format!(
        "payload {}",
        a.authorizer_payload_format_version
            .as_deref()
            .unwrap_or("?")
    )];
    if a.enable_simple_responses == Some(true) {
        parts.push("simple responses".into());
    }
    parts.push(match a.authorizer_result_ttl_in_seconds.unwrap_or(0) {
        0 => "not cached".into(),
        ttl => format!("cached {ttl} s"),
    });
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_settings_read_as_a_line() {
        let mut a = Authorizer {
            authorizer_id: "a1".into(),
            name: "auth".into(),
            authorizer_type: "REQUEST".into(),
            identity_source: vec![],
            jwt_configuration: None,
            authorizer_uri: None,
            authorizer_payload_format_version: Some("2.0".into()),
            enable_simple_responses: Some(true),
            authorizer_result_ttl_in_seconds: Some(300),
            authorizer_credentials_arn: None,
        };
        assert_eq!(
            lambda_settings(&a),
            "payload 2.0 · simple responses · cached 300 s"
        );
        a.authorizer_payload_format_version = Some("1.0".into());
        a.enable_simple_responses = Some(false);
        a.authorizer_result_ttl_in_seconds = Some(0);
        assert_eq!(lambda_settings(&a), "payload 1.0 · not cached");
    }
}
