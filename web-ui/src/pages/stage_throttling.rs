use std::collections::BTreeMap;

use leptos::prelude::*;
use portico_model::{RouteSettings, Stage};
use serde_json::json;

use super::current_api_id;
use super::throttle_override::{Override, ThrottleOverride, mentions};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::text_field::TextField;

/// A stage's throttling, as the AWS console's Stages → Throttling has it: the default
/// limits of every route, and overrides by route key.
#[component]
pub fn StageThrottling(
    /// Unique on the page, for element ids.
    #[prop(into)]
    dom_id: String,
    stage: Stage,
    /// The API's route keys, in the order the Routes page lists them.
    route_keys: Vec<String>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let client = AdminClient::new();
    let path = format!(
        "/v2/apis/{}/stages/{}",
        segment(&current_api_id()),
        segment(&stage.stage_name)
    );
    let default = stage.default_route_settings.clone().unwrap_or_default();
    let rate = RwSignal::new(shown(default.throttling_rate_limit));
    let burst = RwSignal::new(shown(default.throttling_burst_limit));
    let next_id = RwSignal::new(stage.route_settings.len() as u64);
    let overrides = RwSignal::new(
        stage
            .route_settings
            .iter()
            .enumerate()
            .map(|(n, (key, s))| Override {
                id: n as u64,
                route_key: RwSignal::new(key.clone()),
                stored: true,
                rate: RwSignal::new(shown(s.throttling_rate_limit)),
                burst: RwSignal::new(shown(s.throttling_burst_limit)),
                problem: RwSignal::new(None),
            })
            .collect::<Vec<_>>(),
    );
    let errors = FormErrors::new(&[
        "throttlingRateLimit",
        "throttlingBurstLimit",
        "defaultRouteSettings",
        "routeSettings",
    ]);
    let busy = RwSignal::new(false);
    let default_error = errors.field("defaultRouteSettings");
    let route_error = errors.field("routeSettings");
    let unplaced = move || {
        route_error.get().filter(|m| {
            !overrides.with(|o| o.iter().any(|o| mentions(m, &o.route_key.get_untracked())))
        })
    };

    let first_free = {
        let route_keys = route_keys.clone();
        move || {
            let taken = overrides.with_untracked(|o| {
                o.iter()
                    .map(|o| o.route_key.get_untracked())
                    .collect::<Vec<_>>()
            });
            route_keys
                .iter()
                .find(|k| !taken.contains(k))
                .or(route_keys.first())
                .cloned()
                .unwrap_or_default()
        }
    };
    let add = move |_| {
        let id = next_id.get_untracked();
        next_id.set(id + 1);
        let row = Override {
            id,
            route_key: RwSignal::new(first_free()),
            stored: false,
            rate: RwSignal::new(String::new()),
            burst: RwSignal::new(String::new()),
            problem: RwSignal::new(None),
        };
        overrides.update(|o| o.push(row));
    };
    let remove = Callback::new({
        let (client, path) = (client.clone(), path.clone());
        move |row: Override| {
            errors.clear();
            if !row.stored {
                overrides.update(|o| o.retain(|r| r.id != row.id));
                return;
            }
            let path = format!(
                "{path}/routesettings/{}",
                segment(&row.route_key.get_untracked())
            );
            let client = client.clone();
            leptos::task::spawn_local(async move {
                match client.delete(&path).await {
                    Ok(()) => on_saved.run(()),
                    Err(e) => errors.set(about_overrides(e)),
                }
            });
        }
    });
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let default = match settings(&rate.get_untracked(), &burst.get_untracked()) {
            Ok(s) => s,
            Err((field, message)) => return errors.set(ApiFailure::invalid(field, message)),
        };
        let mut by_route = BTreeMap::new();
        let mut ok = true;
        for row in overrides.get_untracked() {
            let key = row.route_key.get_untracked();
            let problem = match settings(&row.rate.get_untracked(), &row.burst.get_untracked()) {
                Err((_, message)) => Some(message),
                Ok(_) if by_route.contains_key(&key) => {
                    Some("Another override above is for this route")
                }
                Ok(s) => {
                    by_route.insert(key, s);
                    None
                }
            };
            ok &= problem.is_none();
            row.problem.set(problem);
        }
        if !ok {
            return;
        }
        let mut body = json!({});
        if default.is_throttled() {
            body["defaultRouteSettings"] = json!(default);
        }
        if !by_route.is_empty() {
            body["routeSettings"] = json!(by_route);
        }
        busy.set(true);
        let (client, path) = (client.clone(), path.clone());
        leptos::task::spawn_local(async move {
            let result = client.patch::<Stage>(&path, body).await;
            busy.set(false);
            match result {
                Ok(_) => on_saved.run(()),
                Err(e) => errors.set(about_overrides(e)),
            }
        });
    };
    let no_routes = route_keys.is_empty();
    view! {
        <form class="throttling" on:submit=on_save>
            <h3>"Throttling"</h3>
            <p class="hint">
                "Limits are cluster-wide totals, shared by every proxy node that serves the stage, "
                "and a save takes effect at once, without a deployment. Rate: requests per "
                "second; burst: requests at once. An override's empty limit is the default's; "
                "a save never clears a stored limit (remove the override instead)."
            </p>
            <ErrorBanner failure=errors.general()/>
            <div class="throttle-default" class:invalid=move || default_error.get().is_some() data-field="defaultRouteSettings">
                <div class="form-grid">
                    <TextField
                        id=format!("{dom_id}-throttle-rate")
                        label="Default rate limit (requests/second)"
                        field="throttlingRateLimit"
                        value=rate
                        errors
                        inputmode="decimal"
                        placeholder="not limited"
                    />
                    <TextField
                        id=format!("{dom_id}-throttle-burst")
                        label="Default burst limit (requests)"
                        field="throttlingBurstLimit"
                        value=burst
                        errors
                        inputmode="numeric"
                        placeholder="not limited"
                    />
                </div>
                <p class="field-error" role="alert">{move || default_error.get()}</p>
            </div>
            <fieldset class="field overrides" data-field="routeSettings">
                <legend>"Route throttling"</legend>
                <div class="override-head" class:hidden=move || overrides.with(Vec::is_empty) aria-hidden="true">
                    <span>"Route"</span>
                    <span>"Rate (requests/second)"</span>
                    <span>"Burst (requests)"</span>
                </div>
                <For
                    each=move || overrides.get()
                    key=|row| row.id
                    children=move |row| view! { <ThrottleOverride row route_keys=route_keys.clone() route_error remove/> }
                />
                <button type="button" class="secondary" on:click=add disabled=no_routes
                    title=if no_routes { "The API has no routes yet" } else { "Limits of their own for one route" }>
                    "Add override"
                </button>
                <p class="field-error" role="alert">{unplaced}</p>
            </fieldset>
            <button type="submit" class="primary" disabled=move || busy.get()>"Save throttling"</button>
        </form>
    }
}

fn shown<T: ToString>(limit: Option<T>) -> String {
    limit.map(|l| l.to_string()).unwrap_or_default()
}

/// Reads a rate and a burst as typed; an empty one is not sent. The error names the field
/// at fault.
fn settings(rate: &str, burst: &str) -> Result<RouteSettings, (&'static str, &'static str)> {
    let throttling_rate_limit = match rate.trim() {
        "" => None,
        r => match r.parse::<f64>() {
            Ok(r) if r.is_finite() && r >= 0.0 => Some(r),
            _ => {
                return Err((
                    "throttlingRateLimit",
                    "Enter a number of requests per second, 0 or more",
                ));
            }
        },
    };
    let throttling_burst_limit = match burst.trim() {
        "" => None,
        b => match b.parse::<i64>() {
            Ok(b) if b >= 0 => Some(b),
            _ => {
                return Err((
                    "throttlingBurstLimit",
                    "Enter a whole number of requests, 0 or more",
                ));
            }
        },
    };
    Ok(RouteSettings {
        throttling_rate_limit,
        throttling_burst_limit,
        ..Default::default()
    })
}

/// The API answers a route key it does not know with NotFoundException and no field; it
/// is about the overrides all the same, so it is shown with them.
fn about_overrides(mut e: ApiFailure) -> ApiFailure {
    if e.field.is_none()
        && e.error_type == "NotFoundException"
        && e.message.contains("RouteSettings")
    {
        e.field = Some("routeSettings".into());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_numbers_of_zero_or_more() {
        let s = settings(" 10.5 ", "20").unwrap();
        assert_eq!(s.throttling_rate_limit, Some(10.5));
        assert_eq!(s.throttling_burst_limit, Some(20));
        assert!(!settings("", "").unwrap().is_throttled());
        assert_eq!(settings("-1", "").unwrap_err().0, "throttlingRateLimit");
        assert_eq!(settings("fast", "").unwrap_err().0, "throttlingRateLimit");
        assert_eq!(settings("1", "2.5").unwrap_err().0, "throttlingBurstLimit");
        assert_eq!(settings("1", "-3").unwrap_err().0, "throttlingBurstLimit");
    }
}
