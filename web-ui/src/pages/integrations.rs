use leptos::prelude::*;
use portico_model::{Integration, Page, Route};

use super::integration_form::IntegrationForm;
use super::{Reload, current_api_id, sort_routes};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::resource_table::{ResourceRow, ResourceTable};

/// An API's HTTP integrations, each with the routes that use it: list, create, edit and
/// delete.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let client = AdminClient::new();
    let reload = Reload::new();
    let api = format!("/v2/apis/{}", segment(&current_api_id()));
    let base = format!("{api}/integrations");
    let integrations = Resource::new(move || reload.track(), {
        let api = api.clone();
        move |_| {
            let (client, api) = (client.clone(), api.clone());
            async move {
                let integrations = client
                    .get::<Page<Integration>>(&format!("{api}/integrations?maxResults=500"))
                    .await?;
                let mut routes = client
                    .get::<Page<Route>>(&format!("{api}/routes?maxResults=500"))
                    .await?
                    .items;
                sort_routes(&mut routes);
                Ok::<_, ApiFailure>((integrations.items, routes))
            }
        }
    });
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
                                let existing = i.clone();
                                let id_prefix = format!("integration-{}", i.integration_id);
                                let edit = move || {
                                    view! {
                                        <IntegrationForm id_prefix=id_prefix.clone() existing=Some(existing.clone()) on_saved/>
                                    }
                                };
                                view! {
                                    <ResourceRow columns=8 delete_path=path on_deleted=on_saved delete_failure=delete_error edit>
                                        <td class="mono">{i.integration_id.clone()}</td>
                                        <td>{i.integration_type.clone()}</td>
                                        <td>{i.integration_method.clone()}</td>
                                        <td class="mono uri">{i.integration_uri.clone()}</td>
                                        <td>{format!("{} ms", i.timeout_in_millis)}</td>
                                        <td class="mappings">{mappings}</td>
                                        <td class="used-by"><ul class="plain">{used_by}</ul></td>
                                    </ResourceRow>
                                }
                            })
                            .collect_view();
                        view! {
                            <ResourceTable headers=&["ID", "Type", "Method", "URI", "Timeout", "Mappings", "Used by routes"]>
                                {rows}
                            </ResourceTable>
                        }
                            .into_any()
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Create an HTTP integration"</h2>
            <IntegrationForm id_prefix="new-integration" existing=None on_saved/>
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
