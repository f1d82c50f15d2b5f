//! The scaffold every create and edit form of the console shares: the API's message above
//! the form (or beside the field it names), one submit that creates (POST to the
//! collection), saves (PATCH to the resource) or replaces (PUT), and a button that is
//! disabled while the call is out.
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::AdminClient;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;

/// Where a form sends what it collected.
pub enum FormTarget {
    /// POST to this collection.
    Create(String),
    /// PATCH this resource.
    Save(String),
    /// PUT this resource whole (the price table, a budget).
    Replace(String),
}

/// A form's errors, its busy flag, and its one way to the admin API.
#[derive(Clone)]
pub struct FormState {
    pub errors: FormErrors,
    pub busy: RwSignal<bool>,
    client: AdminClient,
}

impl FormState {
    /// `fields`: the API fields the form has inputs for, so their messages show beside
    /// them.
    pub fn new(fields: &'static [&'static str]) -> Self {
        FormState {
            errors: FormErrors::new(fields),
            busy: RwSignal::new(false),
            client: AdminClient::new(),
        }
    }

    /// Sends `body`; `done` gets the saved resource, and a failure lands in `errors`.
    pub fn send<T: DeserializeOwned + 'static>(
        &self,
        target: FormTarget,
        body: Value,
        done: impl FnOnce(T) + 'static,
    ) {
        self.busy.set(true);
        let (client, errors, busy) = (self.client.clone(), self.errors, self.busy);
        leptos::task::spawn_local(async move {
            let result = match target {
                FormTarget::Create(path) => client.post::<T>(&path, body).await,
                FormTarget::Save(path) => client.patch::<T>(&path, body).await,
                FormTarget::Replace(path) => client.put::<T>(&path, body).await,
            };
            busy.set(false);
            match result {
                Ok(saved) => done(saved),
                Err(e) => errors.set(e),
            }
        });
    }
}

/// A form with the shared scaffold around its fields. `on_submit` runs after the
/// browser's own submit is stopped and the last errors are cleared.
#[component]
pub fn ResourceForm(
    #[prop(optional)] class: &'static str,
    state: FormState,
    #[prop(into)] submit_label: String,
    on_submit: Callback<()>,
    children: Children,
) -> impl IntoView {
    let (errors, busy) = (state.errors, state.busy);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        on_submit.run(());
    };
    view! {
        <form class=class on:submit=submit>
            <ErrorBanner failure=errors.general()/>
            <div class="form-grid">{children()}</div>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {submit_label}
            </button>
        </form>
    }
}
