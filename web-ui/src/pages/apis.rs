use leptos::prelude::*;
use portico_model::{Api, Page};

use super::Reload;
use super::api_create_form::CreateApiForm;
use crate::client::AdminClient;
use crate::components::error_banner::ErrorBanner;
use crate::components::relative_time::RelativeTime;

/// Every HTTP API, a form to create one, and the way to import one.
#[component]
pub fn ApisPage() -> impl IntoView {
    let client = AdminClient::new();
    let reload = Reload::new();
    let apis = Resource::new(move || reload.track(), {
        let client = client.clone();
        move |_| {
            let client = client.clone();
            async move { client.get::<Page<Api>>("/v2/apis?maxResults=500").await }
        }
    });
    view! {
        <h1>"APIs"</h1>
        <section class="card">
            <h2>"Your APIs"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match apis.await {
                        Ok(page) if page.items.is_empty() => {
                            view! { <p class="empty">"No APIs yet. Create one below."</p> }.into_any()
                        }
                        Ok(page) => {
                            let apis = page.items;
                            view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"ID"</th>
                        <th scope="col">"Protocol"</th>
                        <th scope="col">"Endpoint"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {apis
                        .into_iter()
                        .map(|api| {
                            view! {
                                <tr>
                                    <td>
                                        <a href=format!("/apis/{}", api.api_id)>{api.name}</a>
                                    </td>
                                    <td class="mono">{api.api_id}</td>
                                    <td>{api.protocol_type}</td>
                                    <td class="mono">{api.api_endpoint}</td>
                                    <td><RelativeTime at=api.created_date/></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
                            .into_any()
                        }
                        Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <CreateApiForm client/>
        <section class="card">
            <h2>"Import an API"</h2>
            <p class="muted">
                "From an OpenAPI 3 definition, JSON or YAML, such as AWS's or a Portico stage's export; or replace an existing API's definition with one."
            </p>
            <a class="button-link" href="/apis/import">"Import from OpenAPI"</a>
        </section>
    }
}
