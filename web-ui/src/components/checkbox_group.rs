use leptos::prelude::*;

use super::form_errors::FormErrors;

/// A labelled set of checkboxes, one per option, bound to the options checked in `value`
/// (kept in the order of `options`); the API's message about `field` appears once, under
/// the set, since the API names the list and not one of its values.
#[component]
pub fn CheckboxGroup(
    #[prop(into)] id: String,
    label: &'static str,
    field: &'static str,
    options: &'static [&'static str],
    value: RwSignal<Vec<String>>,
    errors: FormErrors,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let error = errors.field(field);
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    let boxes = options
        .iter()
        .enumerate()
        .map(|(n, option)| {
            let option = *option;
            // Options such as `*` make poor ids; their position never does.
            let box_id = format!("{id}-{n}");
            let checked = move || value.with(|v| v.iter().any(|o| o == option));
            let initially = value.with_untracked(|v| v.iter().any(|o| o == option));
            let toggle = move |ev| {
                let on = event_target_checked(&ev);
                value.update(|v| {
                    *v = options
                        .iter()
                        .filter(|o| {
                            if **o == option {
                                on
                            } else {
                                v.contains(&o.to_string())
                            }
                        })
                        .map(|o| o.to_string())
                        .collect();
                });
            };
            view! {
                <span class="choice">
                    <input
                        id=box_id.clone()
                        name=field
                        type="checkbox"
                        value=option
                        checked=initially
                        prop:checked=checked
                        on:change=toggle
                    />
                    <label for=box_id class="mono">{option}</label>
                </span>
            }
        })
        .collect_view();
    view! {
        <fieldset
            class="field checkbox-group"
            class:invalid=move || error.get().is_some()
            data-field=field
            aria-describedby=described_by
        >
            <legend>{label}</legend>
            <div class="choices">{boxes}</div>
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </fieldset>
    }
}
