//! The page shell and the console's routes. Every route renders in `SsrMode::Async` so a
//! visitor without a session is redirected before any HTML is sent.
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::console_layout::ConsoleLayout;
use crate::pages::api_layout::ApiLayout;
use crate::pages::api_overview::ApiOverview;
use crate::pages::apis::ApisPage;
use crate::pages::authorizers::AuthorizersPage;
use crate::pages::certificates::CertificatesPage;
use crate::pages::cors::CorsPage;
use crate::pages::deployments::DeploymentsPage;
use crate::pages::domain::DomainPage;
use crate::pages::domains::DomainsPage;
use crate::pages::import::ImportPage;
use crate::pages::integrations::IntegrationsPage;
use crate::pages::login::LoginPage;
use crate::pages::monitor::MonitorPage;
use crate::pages::nodes::NodesPage;
use crate::pages::not_found::NotFound;
use crate::pages::routes::RoutesPage;
use crate::pages::stages::StagesPage;
use crate::pages::test_invoke::TestInvokePage;
use crate::pages::usage::UsagePage;
use crate::pages::vpc_link::VpcLinkPage;
use crate::pages::vpc_links::VpcLinksPage;

/// The HTML document around the app; `options` names the wasm and JS files the build wrote.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/pkg/favicon.svg"/>
                <link rel="stylesheet" href="/pkg/portico.css"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Tests (and people) can tell a page that only rendered from one that is live.
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title text="Portico console"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=|| view! { <Redirect path="/apis"/> }/>
                    <Route path=path!("apis") view=ApisPage/>
                    // Before `apis/:api_id`, which would take `import` for an API id.
                    <Route path=path!("apis/import") view=ImportPage/>
                    <ParentRoute path=path!("apis/:api_id") view=ApiLayout>
                        <Route path=path!("") view=ApiOverview/>
                        <Route path=path!("routes") view=RoutesPage/>
                        <Route path=path!("integrations") view=IntegrationsPage/>
                        <Route path=path!("authorizers") view=AuthorizersPage/>
                        <Route path=path!("cors") view=CorsPage/>
                        <Route path=path!("stages") view=StagesPage/>
                        <Route path=path!("deployments") view=DeploymentsPage/>
                        <Route path=path!("monitor") view=MonitorPage/>
                        <Route path=path!("test") view=TestInvokePage/>
                    </ParentRoute>
                    <Route path=path!("domains") view=DomainsPage/>
                    <Route path=path!("domains/:domain_name") view=DomainPage/>
                    <Route path=path!("certificates") view=CertificatesPage/>
                    <Route path=path!("vpclinks") view=VpcLinksPage/>
                    <Route path=path!("vpclinks/:vpc_link_id") view=VpcLinkPage/>
                    <Route path=path!("nodes") view=NodesPage/>
                    <Route path=path!("usage") view=UsagePage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
