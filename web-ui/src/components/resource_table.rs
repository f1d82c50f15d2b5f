//! The table every list page of the console shares, and its row: the resource's cells,
//! an Edit button that opens the resource's form beneath, and Delete.
use leptos::prelude::*;

use crate::client::ApiFailure;
use crate::components::delete_button::DeleteButton;

/// A table of resources under `headers`, with a last column for each row's actions.
/// `hidden` keeps an empty table in the page, out of sight, so that rows can appear in
/// place.
#[component]
pub fn ResourceTable(
    headers: &'static [&'static str],
    #[prop(optional)] hidden: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap" class:hidden=hidden>
            <table>
                <thead>
                    <tr>
                        {headers.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// One resource's row: `children` are its cells; Edit shows `edit` (the resource's
/// form) in a row beneath; Delete sends DELETE to `delete_path`.
#[component]
pub fn ResourceRow(
    /// How many cells the row has, its actions included.
    columns: usize,
    delete_path: String,
    on_deleted: Callback<()>,
    delete_failure: RwSignal<Option<ApiFailure>>,
    #[prop(into)] edit: ViewFn,
    children: Children,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    view! {
        <tr>
            {children()}
            <td class="actions">
                <button type="button" class="secondary" on:click=move |_| editing.update(|e| *e = !*e)>
                    "Edit"
                </button>
                <DeleteButton path=delete_path label="Delete" on_deleted failure=delete_failure/>
            </td>
        </tr>
        <Show when=move || editing.get()>
            <tr class="edit-row">
                <td colspan=columns.to_string()>{edit.run()}</td>
            </tr>
        </Show>
    }
}
