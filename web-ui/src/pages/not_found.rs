use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="content narrow">
            <h1>"Not found"</h1>
            <p>"There is no console page here. " <a href="/apis">"Go to your APIs"</a></p>
        </main>
    }
}
