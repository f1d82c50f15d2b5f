//! The targets editor of a VPC link: one row per target (its `host:port` and weight),
//! with Add and Remove, and the API's message about `targets` beside the row it is about.
use leptos::prelude::*;
use portico_model::VpcLinkTarget;

use crate::components::form_errors::FormErrors;

/// One target as typed.
#[derive(Clone, Copy)]
pub struct TargetRow {
    /// Stable while the row lives, so that removing a row leaves the others' inputs be.
    pub id: u64,
    pub address: RwSignal<String>,
    pub weight: RwSignal<String>,
}

/// The rows of the editor.
#[derive(Clone, Copy)]
pub struct TargetRows {
    pub rows: RwSignal<Vec<TargetRow>>,
    next_id: RwSignal<u64>,
}

impl TargetRows {
    pub fn new(stored: &[VpcLinkTarget]) -> Self {
        let rows = TargetRows {
            rows: RwSignal::new(Vec::new()),
            next_id: RwSignal::new(0),
        };
        rows.replace(stored);
        rows
    }

    /// Shows `stored` (what the API answered a save with), one row each.
    pub fn replace(&self, stored: &[VpcLinkTarget]) {
        self.rows.set(Vec::new());
        for t in stored {
            self.push(&t.address, &t.weight.to_string());
        }
    }

    fn push(&self, address: &str, weight: &str) {
        let id = self.next_id.get_untracked();
        self.next_id.set(id + 1);
        let row = TargetRow {
            id,
            address: RwSignal::new(address.to_owned()),
            weight: RwSignal::new(weight.to_owned()),
        };
        self.rows.update(|rows| rows.push(row));
    }

    /// A new row of weight 1, the weight a target gets when none is given.
    pub fn add(&self) {
        self.push("", "1");
    }

    pub fn remove(&self, id: u64) {
        self.rows.update(|rows| rows.retain(|r| r.id != id));
    }

    /// Each row's address and weight, trimmed, in order.
    pub fn typed(&self) -> Vec<(String, String)> {
        self.rows.with_untracked(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r.address.get_untracked().trim().to_owned(),
                        r.weight.get_untracked().trim().to_owned(),
                    )
                })
                .collect()
        })
    }

    /// The id of the row `message` is about, read when the message arrives.
    fn row_of(&self, message: &str) -> Option<u64> {
        let addresses: Vec<String> = self.typed().into_iter().map(|(a, _)| a).collect();
        let at = target_index(message, &addresses)?;
        self.rows.with_untracked(|rows| rows.get(at).map(|r| r.id))
    }
}

/// Which target a message about `targets` is about: the model's and the admin API's
/// messages say `targets[N]`; others (a name given twice, an address the upstream
/// policy refuses) quote the address.
pub(crate) fn target_index(message: &str, addresses: &[String]) -> Option<usize> {
    if let Some(rest) = message.split("targets[").nth(1)
        && let Some((n, _)) = rest.split_once(']')
        && let Ok(n) = n.parse::<usize>()
    {
        return (n < addresses.len()).then_some(n);
    }
    let lower = message.to_ascii_lowercase();
    addresses
        .iter()
        .position(|a| !a.is_empty() && lower.contains(&a.to_ascii_lowercase()))
}

/// The rows' inputs, Add target, and the message about `targets`.
#[component]
pub fn TargetRowsEditor(rows: TargetRows, errors: FormErrors) -> impl IntoView {
    let message = errors.field("targets");
    // The row is picked when the message arrives, so that fixing the address does not
    // move the message away from the row before the next save.
    let placed = Memo::new(move |_| message.get().map(|m| (rows.row_of(&m), m)));
    let unplaced = move || placed.get().and_then(|(row, m)| row.is_none().then_some(m));
    let empty = move || rows.rows.with(Vec::is_empty);
    view! {
        <fieldset class="field target-editor" class:invalid=move || unplaced().is_some() data-field="targets">
            <legend>"Targets"</legend>
            <div class="target-head" class:hidden=empty aria-hidden="true">
                <span>"Address (host:port)"</span>
                <span>"Weight"</span>
            </div>
            <For
                each=move || rows.rows.get()
                key=|row| row.id
                children=move |row| target_row(row, rows, placed)
            />
            <p class="empty no-targets" class:hidden=move || !empty()>
                "No targets: the link's routes answer 503 until one is added."
            </p>
            <button type="button" class="secondary add-target" on:click=move |_| rows.add()>
                "Add target"
            </button>
            <p class="hint">
                "An IP address or a DNS name, and a port: 10.0.1.5:8080, [fd00::5]:80, "
                "orders.internal:80. A target with weight 2 gets twice the requests of one with 1 (1 to 999)."
            </p>
            <p class="field-error" role="alert">{unplaced}</p>
        </fieldset>
    }
}

fn target_row(
    row: TargetRow,
    rows: TargetRows,
    placed: Memo<Option<(Option<u64>, String)>>,
) -> impl IntoView {
    let error = move || {
        placed
            .get()
            .and_then(|(at, m)| (at == Some(row.id)).then_some(m))
    };
    let invalid = move || if error().is_some() { "true" } else { "false" };
    view! {
        <div class="target-row" class:invalid=move || error().is_some()>
            <input
                type="text"
                class="target-address mono"
                aria-label="Address (host:port)"
                aria-invalid=invalid
                placeholder="10.0.1.5:8080"
                value=row.address.get_untracked()
                prop:value=move || row.address.get()
                on:input=move |ev| row.address.set(event_target_value(&ev))
            />
            <input
                type="text"
                class="target-weight"
                aria-label="Weight"
                inputmode="numeric"
                value=row.weight.get_untracked()
                prop:value=move || row.weight.get()
                on:input=move |ev| row.weight.set(event_target_value(&ev))
            />
            <button type="button" class="danger" on:click=move |_| rows.remove(row.id)>"Remove"</button>
            <p class="field-error row-error" role="alert">{error}</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::target_index;

    #[test]
    fn messages_find_their_row() {
        let rows = [
            "10.0.0.1:80".to_owned(),
            "orders.internal:80".to_owned(),
            String::new(),
        ];
        assert_eq!(
            target_index("Invalid targets[2].address '': use host:port", &rows),
            Some(2)
        );
        assert_eq!(
            target_index("targets[1].weight must be between 1 and 999, got 0", &rows),
            Some(1)
        );
        assert_eq!(target_index("targets[7].weight", &rows), None);
        assert_eq!(
            target_index("targets names orders.internal:80 twice", &rows),
            Some(1)
        );
        assert_eq!(
            target_index(
                "Target 10.0.0.1:80 is refused: the control plane's own port",
                &rows
            ),
            Some(0)
        );
        assert_eq!(target_index("A link has at most 100 targets", &rows), None);
    }
}
