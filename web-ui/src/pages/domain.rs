//! One custom domain name: how it is configured, its API mappings and the URLs they make,
//! and deleting it.
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use portico_model::{Api, ApiMapping, DOMAIN_AVAILABLE, DomainName, Page, Stage};

use super::Reload;
use super::api_mapping_form::ApiMappingForm;
use super::certificates::certificate_id;
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::delete_button::DeleteButton;
use crate::components::error_banner::ErrorBanner;
use crate::components::resource_table::ResourceTable;

/// The port nodes serve HTTPS on unless told otherwise (`--proxy-tls-addr`).
const DEFAULT_TLS_PORT: u16 = 8443;

/// The `:domain_name` of the page being shown, as the API names it.
fn current_domain_name() -> String {
    let raw = use_params_map()
        .get_untracked()
        .get("domain_name")
        .unwrap_or_default();
    // Domain names hold no `%`, so decoding a name the router decoded already is harmless.
    percent_encoding::percent_decode_str(&raw)
        .decode_utf8_lossy()
        .into_owned()
}

/// Where a mapping is called, as the AWS console shows it: `https://{domain}/{key}`, with
/// a wildcard domain's `*` kept (any one label stands for it).
pub(crate) fn mapping_url(domain: &str, key: &str) -> String {
    format!("https://{domain}/{key}")
}

/// A custom domain name's configuration, API mappings and URLs.
#[component]
pub fn DomainPage() -> impl IntoView {
    let client = AdminClient::new();
    let name = current_domain_name();
    let base = format!("/v2/domainnames/{}", segment(&name));
    let reload = Reload::new();
    let data = Resource::new(move || reload.track(), {
        let base = base.clone();
        move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let domain = client.get::<DomainName>(&base).await?;
                let mut mappings = client
                    .get::<Page<ApiMapping>>(&format!("{base}/apimappings?maxResults=500"))
                    .await?
                    .items;
                mappings.sort_by(|a, b| a.api_mapping_key.cmp(&b.api_mapping_key));
                let apis = client
                    .get::<Page<Api>>("/v2/apis?maxResults=500")
                    .await?
                    .items;
                // The mapping form's stage choices, loaded with the page so that what the
                // server rendered is what the browser hydrates.
                let mut stages = std::collections::BTreeMap::new();
                for api in &apis {
                    let names = client
                        .get::<Page<Stage>>(&format!(
                            "/v2/apis/{}/stages?maxResults=500",
                            segment(&api.api_id)
                        ))
                        .await?
                        .items
                        .into_iter()
                        .map(|s| s.stage_name)
                        .collect::<Vec<_>>();
                    stages.insert(api.api_id.clone(), names);
                }
                Ok::<_, ApiFailure>((domain, mappings, apis, stages))
            }
        }
    });
    let on_saved = Callback::new(move |()| reload.bump());
    let delete_error = RwSignal::new(None::<ApiFailure>);
    let deleted = RwSignal::new(false);
    let on_domain_deleted = Callback::new(move |()| deleted.set(true));
    view! {
        <p class="breadcrumb">
            <a href="/domains">"Custom domain names"</a>
            " / "
            <span class="mono">{name.clone()}</span>
        </p>
        <h1 class="mono">{name.clone()}</h1>
        <Show when=move || deleted.get()>
            <Redirect path="/domains"/>
        </Show>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new({
                let base = base.clone();
                async move {
                    let (domain, mappings, apis, stages) = match data.await {
                        Ok(d) => d,
                        Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    };
                    let domain_name = domain.domain_name.clone();
                    view! {
                        {configuration(&domain)}
                        <section class="card api-mappings">
                            <h2>"API mappings"</h2>
                            <p class="muted">
                                "A request's path picks the mapping with the longest key that matches "
                                "whole leading segments; the key is removed before routes match, and the "
                                "stage name is not in the path."
                            </p>
                            <ErrorBanner failure=delete_error/>
                            {mapping_table(&domain_name, &base, mappings, &apis, on_saved, delete_error)}
                            <p class="hint tls-note">
                                {format!(
                                    "Nodes serve HTTPS on port {DEFAULT_TLS_PORT} by default (--proxy-tls-addr): \
                                     until they, or a load balancer in front of them, listen on 443, add \
                                     :{DEFAULT_TLS_PORT} after the name. Point the name's DNS at your nodes.",
                                )}
                                {domain_name
                                    .starts_with("*.")
                                    .then_some(" A wildcard domain answers for every name one label under it: any such label stands for the *.")}
                            </p>
                            <h3>"Add an API mapping"</h3>
                            <ApiMappingForm domain=domain_name.clone() apis stages on_saved/>
                        </section>
                        <section class="card danger-zone">
                            <h2>"Delete domain name"</h2>
                            <p class="muted">
                                "Its API mappings go with it; the certificate and truststore stay."
                            </p>
                            <DeleteButton
                                path=base.clone()
                                label="Delete domain name"
                                on_deleted=on_domain_deleted
                                failure=delete_error
                            />
                        </section>
                    }
                        .into_any()
                }
            })}
        </Transition>
    }
}

/// The domain's configuration, as the AWS console's "Domain details" card.
fn configuration(domain: &DomainName) -> impl IntoView {
    let config = domain
        .domain_name_configurations
        .first()
        .cloned()
        .unwrap_or_default();
    let status = config
        .domain_name_status
        .clone()
        .unwrap_or_else(|| "—".into());
    let status_class = if status == DOMAIN_AVAILABLE {
        "badge ok"
    } else {
        "badge warn"
    };
    let arn = domain.certificate_arn().unwrap_or_default().to_owned();
    let mtls = domain.mutual_tls_authentication.clone();
    let mtls_view = match &mtls {
        None => view! { <dd class="mtls">"off"</dd> }.into_any(),
        Some(m) => {
            let warnings = m
                .truststore_warnings
                .iter()
                .map(|w| view! { <li class="warning">{w.clone()}</li> })
                .collect_view();
            view! {
                <dd class="mtls">
                    <span class="mono">{m.truststore_uri.clone().unwrap_or_default()}</span>
                    {m.truststore_version.clone().map(|v| format!(" (version {v})"))}
                    <ul class="plain">{warnings}</ul>
                    <a href="/certificates#truststores">"Truststores"</a>
                </dd>
            }
            .into_any()
        }
    };
    view! {
        <section class="card domain-details">
            <h2>"Domain details"</h2>
            <dl class="details">
                <dt>"Status"</dt>
                <dd><span class=status_class>{status}</span>
                    {config.domain_name_status_message.clone().map(|m| view! { " " <span class="muted">{m}</span> })}
                </dd>
                <dt>"Domain name ARN"</dt>
                <dd class="mono">{domain.domain_name_arn.clone()}</dd>
                <dt>"Certificate"</dt>
                <dd class="mono domain-certificate">
                    <a href="/certificates" title=arn.clone()>{certificate_id(&arn).to_owned()}</a>
                    <br/>
                    <span class="muted">{arn.clone()}</span>
                </dd>
                <dt>"Endpoint type"</dt>
                <dd>{config.endpoint_type.clone().unwrap_or_default()}</dd>
                <dt>"Security policy"</dt>
                <dd class="mono">{config.security_policy.clone().unwrap_or_default()}</dd>
                <dt>"Mutual TLS"</dt>
                {mtls_view}
                <dt>"API mapping selection"</dt>
                <dd class="mono">{domain.api_mapping_selection_expression.clone()}</dd>
            </dl>
        </section>
    }
}

/// The domain's mappings: the API and stage, the key, the URL, and Delete.
fn mapping_table(
    domain: &str,
    base: &str,
    mappings: Vec<ApiMapping>,
    apis: &[Api],
    on_saved: Callback<()>,
    delete_error: RwSignal<Option<ApiFailure>>,
) -> AnyView {
    if mappings.is_empty() {
        return view! {
            <p class="empty">"No API mappings yet: the domain answers 404 until one is added below."</p>
        }
        .into_any();
    }
    let rows = mappings
        .into_iter()
        .map(|m| {
            let api = apis
                .iter()
                .find(|a| a.api_id == m.api_id)
                .map_or_else(|| m.api_id.clone(), |a| a.name.clone());
            let url = mapping_url(domain, &m.api_mapping_key);
            let key = if m.api_mapping_key.is_empty() {
                view! { <span class="muted">"(none)"</span> }.into_any()
            } else {
                view! { <span>{m.api_mapping_key.clone()}</span> }.into_any()
            };
            let path = format!("{base}/apimappings/{}", segment(&m.api_mapping_id));
            view! {
                <tr data-mapping=m.api_mapping_id.clone() data-key=m.api_mapping_key.clone()>
                    <td class="mapping-api">
                        <a href=format!("/apis/{}", m.api_id)>{api}</a>
                        " "
                        <span class="mono muted">{m.api_id.clone()}</span>
                    </td>
                    <td class="mono mapping-stage">
                        <a href=format!("/apis/{}/stages", m.api_id)>{m.stage.clone()}</a>
                    </td>
                    <td class="mono mapping-key">{key}</td>
                    <td class="mono mapping-url">{url}</td>
                    <td class="actions">
                        <DeleteButton path label="Delete" on_deleted=on_saved failure=delete_error/>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ResourceTable headers=&["API", "Stage", "API mapping key", "URL"]>{rows}</ResourceTable>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_urls_are_the_domain_and_the_key() {
        assert_eq!(
            mapping_url("api.example.test", ""),
            "https://api.example.test/"
        );
        assert_eq!(
            mapping_url("api.example.test", "v1/orders"),
            "https://api.example.test/v1/orders"
        );
        assert_eq!(
            mapping_url("*.example.test", "v1"),
            "https://*.example.test/v1"
        );
    }
}
