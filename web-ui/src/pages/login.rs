use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use portico_model::LoginResponse;
use serde_json::json;

use crate::client::AdminClient;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::text_field::TextField;
use crate::login_redirect::after_login;

/// Signs in with a user name and password; the admin API sets the session cookie.
#[component]
pub fn LoginPage() -> impl IntoView {
    let client = AdminClient::new();
    let navigate = use_navigate();
    let user_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new(&["userName", "password"]);
    let busy = RwSignal::new(false);
    let next = after_login(use_query_map().get_untracked().get("next").as_deref());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        busy.set(true);
        let (client, navigate, next) = (client.clone(), navigate.clone(), next.clone());
        let body =
            json!({ "userName": user_name.get_untracked(), "password": password.get_untracked() });
        leptos::task::spawn_local(async move {
            let result = client.post::<LoginResponse>("/portico/login", body).await;
            busy.set(false);
            match result {
                Ok(_) => navigate(&next, Default::default()),
                Err(e) => errors.set(e),
            }
        });
    };
    view! {
        <main class="login">
            <form class="card login-card" on:submit=on_submit>
                <h1>
                    <img src="/pkg/favicon.svg" alt="" width="28" height="28"/>
                    "Portico console"
                </h1>
                <p class="muted">"Sign in with your Portico user."</p>
                <ErrorBanner failure=errors.general()/>
                <TextField id="login-user" label="User name" field="userName" value=user_name errors required=true/>
                <TextField
                    id="login-password"
                    label="Password"
                    field="password"
                    value=password
                    errors
                    input_type="password"
                    required=true
                />
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
