use leptos::prelude::*;

use crate::client::{AdminClient, ApiFailure};

/// Deletes the resource at `path` through the admin API; a refusal goes to `failure`.
#[component]
pub fn DeleteButton(
    #[prop(into)] path: String,
    label: &'static str,
    on_deleted: Callback<()>,
    failure: RwSignal<Option<ApiFailure>>,
) -> impl IntoView {
    let client = AdminClient::new();
    let on_click = move |_| {
        let (client, path) = (client.clone(), path.clone());
        leptos::task::spawn_local(async move {
            match client.delete(&path).await {
                Ok(()) => on_deleted.run(()),
                Err(e) => failure.set(Some(e)),
            }
        });
    };
    view! { <button type="button" class="danger" on:click=on_click>{label}</button> }
}
