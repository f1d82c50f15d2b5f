use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;
use portico_model::Identity;

use super::budget_banner::{AlertList, BudgetBanner};
use super::error_banner::ErrorBanner;
use super::top_bar::TopBar;
use crate::client::{AdminClient, segment};
use crate::login_redirect::login_url;
use crate::pages::import::ImportNotice;
use crate::pages::{this_month, tick_every};

/// How often every page asks whether a budget alert fired: alerts are checked every few
/// seconds as nodes report, and a banner a little late is no harm.
const BUDGET_ALERT_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// Every page behind the login: checks the session, then shows the top bar, the budget
/// banner (while this month has alerts) and the page.
/// (The control plane has already sent a visitor without a session to the login page; this
/// catches a session that ends while the console is open.)
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let client = AdminClient::new();
    let location = use_location();
    provide_context(ImportNotice(RwSignal::new(None)));
    let me = Resource::new(|| (), {
        let client = client.clone();
        move |_| {
            let client = client.clone();
            async move { client.get::<Identity>("/portico/me").await }
        }
    });
    // Made here, not in the banner, which only exists once `me` has loaded: a resource
    // made inside another's Suspend breaks hydration. Asked again on every navigation too.
    let tick = tick_every(BUDGET_ALERT_REFRESH);
    let pathname = location.pathname;
    let budget_alerts = Resource::new(
        move || (tick.get(), pathname.get()),
        move |_| {
            let client = client.clone();
            let path = format!("/portico/budgets/alerts?month={}", segment(&this_month()));
            async move { client.get::<AlertList>(&path).await }
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
                                <BudgetBanner alerts=budget_alerts/>
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
