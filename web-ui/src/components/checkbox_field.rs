use leptos::prelude::*;

use super::form_errors::FormErrors;

/// A labelled checkbox bound to `value`.
#[component]
pub fn CheckboxField(
    #[prop(into)] id: String,
    label: &'static str,
    field: &'static str,
    value: RwSignal<bool>,
    errors: FormErrors,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let error = errors.field(field);
    view! {
        <div class="field checkbox" class:invalid=move || error.get().is_some() data-field=field>
            <input
                id=id.clone()
                name=field
                type="checkbox"
                checked=value.get_untracked()
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
            />
            <label for=id>{label}</label>
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}
