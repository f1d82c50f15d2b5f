use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use portico_model::Api;

use super::{CurrentApi, Reload, current_api_id};
use crate::client::{AdminClient, segment};
use crate::components::error_banner::ErrorBanner;

/// One API: its name, the tabs of its sections (as in the AWS console) and the section.
#[component]
pub fn ApiLayout() -> impl IntoView {
    let client = AdminClient::new();
    let api_id = current_api_id();
    let reload = Reload::new();
    let path = format!("/v2/apis/{}", segment(&api_id));
    let api = Resource::new(
        move || reload.track(),
        move |_| {
            let (client, path) = (client.clone(), path.clone());
            async move { client.get::<Api>(&path).await }
        },
    );
    provide_context(CurrentApi { api, reload });
    let base = format!("/apis/{api_id}");
    let tabs = [
        ("", "Overview"),
        ("/routes", "Routes"),
        ("/integrations", "Integrations"),
        ("/authorizers", "Authorizers"),
        ("/cors", "CORS"),
        ("/stages", "Stages"),
        ("/deployments", "Deployments"),
        ("/monitor", "Monitor"),
        ("/test", "Test"),
    ];
    view! {
        <p class="breadcrumb">
            <a href="/apis">"APIs"</a>
            " / "
            <span class="mono">{api_id.clone()}</span>
        </p>
        <Transition fallback=|| view! { <h1>"…"</h1> }>
            {move || Suspend::new(async move {
                match api.await {
                    Ok(api) => view! { <h1>{api.name}</h1> }.into_any(),
                    Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                }
            })}
        </Transition>
        <nav class="tabs" aria-label="API sections">
            {tabs
                .into_iter()
                .map(|(suffix, label)| {
                    let href = format!("{base}{suffix}");
                    view! { <A href=href exact=true>{label}</A> }
                })
                .collect_view()}
        </nav>
        <Outlet/>
    }
}
