use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use portico_model::Identity;

use crate::client::{AdminClient, ApiFailure};
use crate::components::error_banner::ErrorBanner;

/// The console's header: where you can go, who you are, and the way out.
#[component]
pub fn TopBar(identity: Identity) -> impl IntoView {
    let client = AdminClient::new();
    let navigate = use_navigate();
    let failed = RwSignal::new(None::<ApiFailure>);
    let log_out = move |_| {
        let (client, navigate) = (client.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            match client
                .post::<()>("/portico/logout", serde_json::json!({}))
                .await
            {
                // A session that is already gone is as good as logged out.
                Err(e) if !e.is_unauthenticated() => failed.set(Some(e)),
                _ => navigate("/login", Default::default()),
            }
        });
    };
    view! {
        <header class="top-bar">
            <a class="brand" href="/apis">
                <img src="/pkg/favicon.svg" alt="" width="22" height="22"/>
                "Portico"
            </a>
            <nav aria-label="Main">
                <A href="/apis">"APIs"</A>
                <A href="/domains">"Custom domain names"</A>
                <A href="/certificates">"Certificates"</A>
                <A href="/vpclinks">"VPC links"</A>
                <A href="/nodes">"Nodes"</A>
                <A href="/usage">"Usage"</A>
            </nav>
            <div class="who">
                <span class="user" title=format!("Signed in as {} ({} role)", identity.user_name, identity.role)>
                    {identity.user_name.clone()} " " <span class="role">{role_in_words(&identity.role)}</span>
                </span>
                <button type="button" class="secondary" on:click=log_out>"Log out"</button>
            </div>
        </header>
        <ErrorBanner failure=failed/>
    }
}

/// The role as what it allows, so that the user `admin` does not read "admin · admin".
fn role_in_words(role: &str) -> String {
    match role {
        "admin" => "full access".into(),
        "editor" => "can edit APIs".into(),
        "viewer" => "read only".into(),
        "invoker" => "can only invoke APIs".into(),
        other => other.to_string(),
    }
}
