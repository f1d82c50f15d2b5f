use leptos::prelude::*;

use crate::client::ApiFailure;

/// An admin API error that belongs to no single field.
#[component]
pub fn ErrorBanner(#[prop(into)] failure: Signal<Option<ApiFailure>>) -> impl IntoView {
    move || {
        failure.get().map(|f| {
            view! {
                <div class="error-banner" role="alert">
                    <strong>{f.error_type}</strong>
                    " "
                    <span class="error-message">{f.message}</span>
                </div>
            }
        })
    }
}
