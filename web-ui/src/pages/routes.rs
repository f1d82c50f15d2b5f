use leptos::prelude::*;
use portico_model::{Authorizer, Integration, Page, Route};

use super::route_form::{RouteForm, describe_authorization};
use super::{Reload, current_api_id, sort_routes};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::resource_table::{ResourceRow, ResourceTable};

/// An API's routes: list, create, edit and delete.
#[component]
pub fn RoutesPage() -> impl IntoView {
    let client = AdminClient::new();
    let api_id = current_api_id();
    let reload = Reload::new();
    let base = format!("/v2/apis/{}", segment(&api_id));
    let data = Resource::new(move || reload.track(), {
        let base = base.clone();
        move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let routes = client
                    .get::<Page<Route>>(&format!("{base}/routes?maxResults=500"))
                    .await?;
                let integrations = client
                    .get::<Page<Integration>>(&format!("{base}/integrations?maxResults=500"))
                    .await?;
                let authorizers = client
                    .get::<Page<Authorizer>>(&format!("{base}/authorizers?maxResults=500"))
                    .await?;
                Ok::<_, ApiFailure>((routes.items, integrations.items, authorizers.items))
            }
        }
    });
    let on_saved = Callback::new(move |()| reload.bump());
    let delete_error = RwSignal::new(None::<ApiFailure>);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new({
                let base = base.clone();
                async move {
                    let (mut routes, integrations, authorizers) = match data.await {
                        Ok(d) => d,
                        Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    };
                    let describe = {
                        let integrations = integrations.clone();
                        move |target: &Option<String>| -> String {
                            let Some(target) = target else { return "—".into() };
                            let id = target.trim_start_matches("integrations/");
                            integrations
                                .iter()
                                .find(|i| i.integration_id == id)
                                .map(|i| format!("{} {}", i.integration_method, i.integration_uri))
                                .unwrap_or_else(|| target.clone())
                        }
                    };
                    sort_routes(&mut routes);
                    let empty = routes.is_empty();
                    let rows = routes
                        .into_iter()
                        .map(|route| {
                            let target = describe(&route.target);
                            let authorization = describe_authorization(&route, &authorizers);
                            let path = format!("{base}/routes/{}", segment(&route.route_id));
                            let form_route = route.clone();
                            let form_integrations = integrations.clone();
                            let form_authorizers = authorizers.clone();
                            let id_prefix = format!("route-{}", route.route_id);
                            let edit = move || {
                                view! {
                                    <RouteForm
                                        id_prefix=id_prefix.clone()
                                        existing=Some(form_route.clone())
                                        integrations=form_integrations.clone()
                                        authorizers=form_authorizers.clone()
                                        on_saved
                                    />
                                }
                            };
                            view! {
                                <ResourceRow columns=5 delete_path=path on_deleted=on_saved delete_failure=delete_error edit>
                                    <td class="mono route-key">{route.route_key.clone()}</td>
                                    <td class="mono">{target}</td>
                                    <td class="authorization">{authorization}</td>
                                    <td class="mono">{route.route_id.clone()}</td>
                                </ResourceRow>
                            }
                        })
                        .collect_view();
                    view! {
                        <section class="card">
                            <h2>"Routes"</h2>
                            <ErrorBanner failure=delete_error/>
                            {empty.then(|| view! { <p class="empty">"No routes yet. Create one below."</p> })}
                            <ResourceTable headers=&["Route key", "Integration", "Authorization", "Route ID"] hidden=empty>
                                {rows}
                            </ResourceTable>
                        </section>
                        <section class="card">
                            <h2>"Create a route"</h2>
                            <RouteForm id_prefix="new" existing=None integrations authorizers on_saved/>
                        </section>
                    }
                        .into_any()
                }
            })}
        </Transition>
    }
}
