use leptos::prelude::*;

/// What the nodes serve differs from what the stage was given: a deployment held back, or
/// routes that answer 500 (the stage's `lastDeploymentStatusMessage`). Renders nothing
/// when they agree.
#[component]
pub fn DeploymentNotice(message: Option<String>) -> impl IntoView {
    message.map(|m| {
        view! {
            <p class="deployment-notice" role="status">
                <strong>"Not served as deployed: "</strong>
                <span class="notice-message">{m}</span>
            </p>
        }
    })
}
