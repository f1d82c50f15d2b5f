use leptos::prelude::*;
use portico_model::{
    CONNECTION_VPC_LINK, INTEGRATION_AWS_PROXY, Integration, LambdaFunctionArn, VpcLink,
};

use super::integration_form::IntegrationForm;
use super::vpc_links::{vpc_link_page, vpc_links};
use super::{Reload, current_api_id, with_routes};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::resource_table::{ResourceRow, ResourceTable};

/// An API's integrations (HTTP backends, private resources through VPC links and Lambda
/// functions), each with the routes that use it: list, create, edit and delete.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let client = AdminClient::new();
    let reload = Reload::new();
    let api = format!("/v2/apis/{}", segment(&current_api_id()));
    let base = format!("{api}/integrations");
    let integrations = Resource::new(move || reload.track(), {
        let (client, api) = (client.clone(), api.clone());
        move |_| {
            let (client, api) = (client.clone(), api.clone());
            async move { with_routes::<Integration>(&client, &api, "integrations").await }
        }
    });
    // The links private integrations go through: named in the list, offered by the forms.
    let links = Resource::new(
        || (),
        move |_| {
            let client = client.clone();
            async move { vpc_links(&client).await }
        },
    );
    let on_saved = Callback::new(move |()| reload.bump());
    let delete_error = RwSignal::new(None::<ApiFailure>);
    view! {
        <section class="card">
            <h2>"Integrations"</h2>
            <ErrorBanner failure=delete_error/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new({
                    let base = base.clone();
                    async move {
                        let (items, routes) = match integrations.await {
                            Ok(data) => data,
                            Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                        };
                        // Without the links, a private integration shows its link's id.
                        let known_links = links.await.unwrap_or_default();
                        if items.is_empty() {
                            return view! {
                                <p class="empty">"No integrations yet. Create one below."</p>
                            }
                                .into_any();
                        }
                        let rows = items
                            .into_iter()
                            .map(|i| {
                                let path = format!("{base}/{}", segment(&i.integration_id));
                                let target = format!("integrations/{}", i.integration_id);
                                let used_by = routes
                                    .iter()
                                    .filter(|r| r.target.as_deref() == Some(target.as_str()))
                                    .map(|r| view! { <li class="mono">{r.route_key.clone()}</li> })
                                    .collect_view();
                                let mappings = mappings_note(&i);
                                let backend = backend_cells(&i, &known_links);
                                let existing = i.clone();
                                let id_prefix = format!("integration-{}", i.integration_id);
                                let edit = move || {
                                    view! {
                                        <IntegrationForm id_prefix=id_prefix.clone() existing=Some(existing.clone()) links on_saved/>
                                    }
                                };
                                view! {
                                    <ResourceRow columns=8 delete_path=path on_deleted=on_saved delete_failure=delete_error edit>
                                        <td class="mono">{i.integration_id.clone()}</td>
                                        {backend}
                                        <td>{format!("{} ms", i.timeout_in_millis)}</td>
                                        <td class="mappings">{mappings}</td>
                                        <td class="used-by"><ul class="plain">{used_by}</ul></td>
                                    </ResourceRow>
                                }
                            })
                            .collect_view();
                        view! {
                            <ResourceTable headers=&["ID", "Type", "Method or payload", "Target", "Timeout", "Mappings", "Used by routes"]>
                                {rows}
                            </ResourceTable>
                        }
                            .into_any()
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Create an integration"</h2>
            <IntegrationForm id_prefix="new-integration" existing=None links on_saved/>
        </section>
    }
}

/// How many parameter mappings an integration applies, each way.
fn mappings_note(i: &Integration) -> String {
    let request = i.request_parameters.len();
    let response: usize = i.response_parameters.values().map(|m| m.len()).sum();
    if request + response == 0 {
        "none".into()
    } else {
        format!("{request} request / {response} response")
    }
}

/// The type, the method (HTTP) or payload format version (Lambda), and what is called: the
/// URI (and, for a private integration, the VPC link it goes through), or the function.
fn backend_cells(i: &Integration, links: &[VpcLink]) -> AnyView {
    if i.connection_type == CONNECTION_VPC_LINK {
        let id = i.connection_id.clone().unwrap_or_default();
        let name = links
            .iter()
            .find(|l| l.vpc_link_id == id)
            .map_or_else(|| id.clone(), |l| l.name.clone());
        let server_name = i
            .tls_config
            .as_ref()
            .map(|t| match &t.server_name_to_verify {
                Some(n) => format!("TLS, verifying {n}"),
                None => "TLS".to_owned(),
            });
        return view! {
            <td class="integration-type">"Private"</td>
            <td class="method">{i.integration_method.clone()}</td>
            <td class="uri private">
                <span class="mono">{i.integration_uri.clone()}</span>
                <br/>
                "via "
                <a class="vpc-link" href=vpc_link_page(&id) data-vpc-link=id.clone()>{name}</a>
                {server_name.map(|s| view! { " · " <span class="tls">{s}</span> })}
            </td>
        }
        .into_any();
    }
    if i.integration_type != INTEGRATION_AWS_PROXY {
        return view! {
            <td class="integration-type">"HTTP"</td>
            <td class="method">{i.integration_method.clone()}</td>
            <td class="mono uri">{i.integration_uri.clone()}</td>
        }
        .into_any();
    }
    view! {
        <td class="integration-type">"Lambda"</td>
        <td class="payload-version">{format!("payload {}", i.payload_format_version)}</td>
        <td class="mono function" title=i.integration_uri.clone()>
            {function_label(&i.integration_uri)}
        </td>
    }
    .into_any()
}

/// The function a Lambda integration calls as the AWS console names it: `notes_get`, or
/// `notes_get:live` with a qualifier. Stored URIs passed the same parser, so the whole
/// URI is shown only for one stored before it was strict.
pub(crate) fn function_label(uri: &str) -> String {
    LambdaFunctionArn::parse_integration_uri(uri).map_or_else(
        |_| uri.to_owned(),
        |arn| match arn.qualifier {
            Some(q) => format!("{}:{q}", arn.function_name),
            None => arn.function_name,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::function_label;

    #[test]
    fn functions_are_named_as_the_aws_console_does() {
        assert_eq!(
            function_label("arn:aws:lambda:us-east-1:123456789012:function:notes_get"),
            "notes_get"
        );
        assert_eq!(
            function_label(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/\
                 arn:aws:lambda:us-east-1:123456789012:function:notes_get:live/invocations"
            ),
            "notes_get:live"
        );
        assert_eq!(function_label("not-an-arn"), "not-an-arn");
    }
}
