use leptos::prelude::*;
use portico_model::{Integration, Page};

use super::integration_form::IntegrationForm;
use super::{Reload, current_api_id};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::delete_button::DeleteButton;
use crate::components::error_banner::ErrorBanner;

/// An API's HTTP integrations: list, create, edit and delete.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let client = AdminClient::new();
    let reload = Reload::new();
    let base = format!("/v2/apis/{}/integrations", segment(&current_api_id()));
    let integrations = Resource::new(move || reload.track(), {
        let base = base.clone();
        move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                client
                    .get::<Page<Integration>>(&format!("{base}?maxResults=500"))
                    .await
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
                        let items = match integrations.await {
                            Ok(page) => page.items,
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
                                let editing = RwSignal::new(false);
                                let path = format!("{base}/{}", segment(&i.integration_id));
                                let existing = i.clone();
                                let id_prefix = format!("integration-{}", i.integration_id);
                                view! {
                                    <tr>
                                        <td class="mono">{i.integration_id.clone()}</td>
                                        <td>{i.integration_type.clone()}</td>
                                        <td>{i.integration_method.clone()}</td>
                                        <td class="mono uri">{i.integration_uri.clone()}</td>
                                        <td>{format!("{} ms", i.timeout_in_millis)}</td>
                                        <td class="actions">
                                            <button type="button" class="secondary" on:click=move |_| editing.update(|e| *e = !*e)>
                                                "Edit"
                                            </button>
                                            <DeleteButton path label="Delete" on_deleted=on_saved failure=delete_error/>
                                        </td>
                                    </tr>
                                    <Show when=move || editing.get()>
                                        <tr class="edit-row">
                                            <td colspan="6">
                                                <IntegrationForm id_prefix=id_prefix.clone() existing=Some(existing.clone()) on_saved/>
                                            </td>
                                        </tr>
                                    </Show>
                                }
                            })
                            .collect_view();
                        view! {
                            <div class="table-wrap">
                                <table>
                                    <thead>
                                        <tr>
                                            <th scope="col">"ID"</th>
                                            <th scope="col">"Type"</th>
                                            <th scope="col">"Method"</th>
                                            <th scope="col">"URI"</th>
                                            <th scope="col">"Timeout"</th>
                                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
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
