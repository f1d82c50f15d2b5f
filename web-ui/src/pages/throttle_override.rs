use leptos::prelude::*;

/// One route's own limits, over the stage's default.
#[derive(Clone, Copy)]
pub struct Override {
    pub id: u64,
    pub route_key: RwSignal<String>,
    /// Saved on the stage, so Remove deletes it there.
    pub stored: bool,
    pub rate: RwSignal<String>,
    pub burst: RwSignal<String>,
    pub problem: RwSignal<Option<&'static str>>,
}

/// One override: its route (fixed once saved), its limits, and Remove; the API's message
/// about the overrides (`route_error`) shows here when it names this route.
#[component]
pub fn ThrottleOverride(
    row: Override,
    route_keys: Vec<String>,
    route_error: Signal<Option<String>>,
    remove: Callback<Override>,
) -> impl IntoView {
    let error = move || {
        row.problem.get().map(str::to_owned).or_else(|| {
            route_error
                .get()
                .filter(|m| mentions(m, &row.route_key.get_untracked()))
        })
    };
    let route = if row.stored {
        view! { <span class="mono route-key">{row.route_key.get_untracked()}</span> }.into_any()
    } else {
        let chosen = row.route_key.get_untracked();
        view! {
            <select
                class="override-route"
                aria-label="Route"
                prop:value=move || row.route_key.get()
                on:change=move |ev| row.route_key.set(event_target_value(&ev))
            >
                {route_keys
                    .into_iter()
                    .map(|k| {
                        let selected = k == chosen;
                        view! { <option value=k.clone() selected=selected>{k.clone()}</option> }
                    })
                    .collect_view()}
            </select>
        }
        .into_any()
    };
    // Text, not number: a number input reads as empty while it holds a typo, which would
    // save as "no limit of its own" instead of being refused.
    let limit =
        |value: RwSignal<String>, class: &'static str, label: &'static str, mode: &'static str| {
            view! {
                <input
                    type="text"
                    class=class
                    aria-label=label
                    inputmode=mode
                    placeholder="default"
                    value=value.get_untracked()
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
            }
        };
    view! {
        <div class="override-row" class:invalid=move || error().is_some() data-route=row.route_key.get_untracked()>
            {route}
            {limit(row.rate, "override-rate", "Rate limit (requests/second)", "decimal")}
            {limit(row.burst, "override-burst", "Burst limit (requests)", "numeric")}
            <button type="button" class="danger" on:click=move |_| remove.run(row)>"Remove"</button>
            <p class="field-error row-error" role="alert">{error}</p>
        </div>
    }
}

/// Whether an API message is about `route_key`: messages quote it, or name it after "key".
pub fn mentions(message: &str, route_key: &str) -> bool {
    !route_key.is_empty()
        && (message.contains(&format!("'{route_key}'"))
            || message.contains(&format!("key {route_key} ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_route_they_are_about() {
        let not_found = "Unable to find Route by key GET /notes within the provided RouteSettings";
        assert!(mentions(not_found, "GET /notes"));
        assert!(!mentions(not_found, "GET /no"));
        let bad = "throttlingRateLimit for route 'GET /notes/{id}' must be a number";
        assert!(mentions(bad, "GET /notes/{id}"));
        assert!(!mentions(bad, "GET /notes"));
    }
}
