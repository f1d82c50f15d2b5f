use leptos::prelude::*;

use super::form_errors::FormErrors;
use super::mapping_rows::{MappingRow, MappingRows};

/// Rows of parameter mappings with Add and Remove. The API's message about `field` is shown
/// beside the row whose key (or status code) it quotes, else under the rows.
#[component]
pub fn MappingEditor(
    label: &'static str,
    field: &'static str,
    rows: MappingRows,
    errors: FormErrors,
    key_placeholder: &'static str,
    value_placeholder: &'static str,
    hint: &'static str,
) -> impl IntoView {
    let message = errors.field(field);
    // The row is picked when the message arrives, so that fixing the key does not move
    // the message away from the row before the next save.
    let placed = Memo::new(move |_| message.get().map(|m| (rows.quoted_row(&m), m)));
    let unplaced = move || placed.get().and_then(|(row, m)| row.is_none().then_some(m));
    let empty = move || rows.rows.with(Vec::is_empty);
    view! {
        <fieldset class="field mapping-editor" class:invalid=move || unplaced().is_some() data-field=field>
            <legend>{label}</legend>
            <div class="mapping-head" class:with-status=rows.with_status class:hidden=empty aria-hidden="true">
                {rows.with_status.then(|| view! { <span>"Status code"</span> })}
                <span>"Key"</span>
                <span>"Value"</span>
            </div>
            <For
                each=move || rows.rows.get()
                key=|row| row.id
                children=move |row| mapping_row(row, rows, placed, key_placeholder, value_placeholder)
            />
            <button type="button" class="secondary add-mapping" on:click=move |_| rows.add()>
                "Add mapping"
            </button>
            <p class="hint">{hint}</p>
            <p class="field-error" role="alert">{unplaced}</p>
        </fieldset>
    }
}

/// One row's inputs, its Remove button, and what is wrong with it.
fn mapping_row(
    row: MappingRow,
    rows: MappingRows,
    placed: Memo<Option<(Option<u64>, String)>>,
    key_placeholder: &'static str,
    value_placeholder: &'static str,
) -> impl IntoView {
    let error = move || {
        row.problem.get().map(str::to_owned).or_else(|| {
            placed
                .get()
                .and_then(|(at, m)| (at == Some(row.id)).then_some(m))
        })
    };
    let invalid = move || if error().is_some() { "true" } else { "false" };
    view! {
        <div class="mapping-row" class:with-status=rows.with_status class:invalid=move || error().is_some()>
            {rows
                .with_status
                .then(|| {
                    view! {
                        <input
                            type="text"
                            class="mapping-status mono"
                            aria-label="Status code"
                            inputmode="numeric"
                            placeholder="200"
                            value=row.status.get_untracked()
                            prop:value=move || row.status.get()
                            on:input=move |ev| row.status.set(event_target_value(&ev))
                        />
                    }
                })}
            <input
                type="text"
                class="mapping-key mono"
                aria-label="Key"
                aria-invalid=invalid
                placeholder=key_placeholder
                value=row.key.get_untracked()
                prop:value=move || row.key.get()
                on:input=move |ev| row.key.set(event_target_value(&ev))
            />
            <input
                type="text"
                class="mapping-value mono"
                aria-label="Value"
                placeholder=value_placeholder
                value=row.value.get_untracked()
                prop:value=move || row.value.get()
                on:input=move |ev| row.value.set(event_target_value(&ev))
            />
            <button type="button" class="danger" on:click=move |_| rows.remove(row.id)>"Remove"</button>
            <p class="field-error row-error" role="alert">{error}</p>
        </div>
    }
}
