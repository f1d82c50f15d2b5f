use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;
use portico_model::Identity;

use super::error_banner::ErrorBanner;
use super::top_bar::TopBar;
use crate::client::AdminClient;
use crate::login_redirect::login_url;

/// Every page behind the login: checks the session, then shows the top bar and the page.
/// (The control plane has already sent a visitor without a session to the login page; this
/// catches a session that ends while the console is open.)
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let client = AdminClient::new();
    let location = use_location();
    let me = Resource::new(
        || (),
        move |_| {
            let client = client.clone();
            async move { client.get::<Identity>("/portico/me").await }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(identity) => {
                        view! {
                            <TopBar identity/>
                            <main class="content">
                                <Outlet/>
                            </main>
                        }
                            .into_any()
                    }
                    Err(e) if e.is_unauthenticated() => {
                        let here = format!(
                            "{}{}",
                            location.pathname.get_untracked(),
                            location.search.get_untracked()
                        );
                        view! { <Redirect path=login_url(&here)/> }.into_any()
                    }
                    Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}
