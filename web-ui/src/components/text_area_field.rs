use leptos::prelude::*;

use super::form_errors::FormErrors;

/// A labelled multi-line input bound to `value`, with the API's message about `field`.
#[component]
pub fn TextAreaField(
    #[prop(into)] id: String,
    label: &'static str,
    field: &'static str,
    value: RwSignal<String>,
    errors: FormErrors,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(default = 4)] rows: u32,
) -> impl IntoView {
    let error = errors.field(field);
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    view! {
        <div class="field" class:invalid=move || error.get().is_some() data-field=field>
            <label for=id.clone()>{label}</label>
            <textarea
                id=id
                name=field
                rows=rows
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described_by
            >
                {value.get_untracked()}
            </textarea>
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
    }
}
