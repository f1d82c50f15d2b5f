use leptos::prelude::*;

use super::form_errors::FormErrors;

/// A labelled drop-down of `(value, label)` options bound to `value`.
#[component]
pub fn SelectField(
    #[prop(into)] id: String,
    label: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    errors: FormErrors,
    options: Vec<(String, String)>,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let error = errors.field(field);
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    view! {
        <div class="field" class:invalid=move || error.get().is_some() data-field=field>
            <label for=id.clone()>{label}</label>
            <select
                id=id
                name=field
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described_by
            >
                {options
                    .into_iter()
                    .map(|(v, text)| {
                        let selected = value.get_untracked() == v;
                        view! { <option value=v selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}
