use leptos::prelude::*;

use super::form_errors::FormErrors;

/// A labelled input bound to `value`; the API's message about `field` appears beside it.
#[component]
pub fn TextField(
    /// The element id, unique on the page.
    #[prop(into)]
    id: String,
    label: &'static str,
    /// The API's name for this field, e.g. `routeKey`.
    field: &'static str,
    value: RwSignal<String>,
    errors: FormErrors,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(default = "text")] input_type: &'static str,
    /// The keyboard a phone shows (`decimal`, `numeric`) where the input is a number that
    /// the form checks itself: a `number` input reads as empty while it holds a typo.
    #[prop(optional)]
    inputmode: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let error = errors.field(field);
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    view! {
        <div class="field" class:invalid=move || error.get().is_some() data-field=field>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=field
                type=input_type
                inputmode=(!inputmode.is_empty()).then_some(inputmode)
                placeholder=placeholder
                required=required
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described_by
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}
