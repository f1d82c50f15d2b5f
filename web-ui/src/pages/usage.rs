//! What each API would cost on AWS this month (or any other), the budgets that warn before
//! a surprise and the alerts they fired, and the price table the costs come from.
use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use portico_model::{
    Api, ApiUsage, Budget, BudgetAlert, BudgetUnit, DeliveryStatus, NotificationType, Page,
    Pricing, UsageReport,
};
use serde::{Deserialize, Serialize};

use super::budget_form::BudgetForm;
use super::pricing_form::PricingForm;
use super::{Reload, is_month, live_tick, this_month};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::delete_button::DeleteButton;
use crate::components::error_banner::ErrorBanner;
use crate::components::relative_time::RelativeTime;

/// Bytes as people read them, in the 1024-based units AWS bills data transfer by (its GB
/// is 2^30 bytes).
pub(crate) fn human_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in ["KB", "MB", "GB", "TB", "PB"] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// An amount in `currency`: cents, or two significant digits below a cent, which is what
/// a few thousand requests cost.
pub(crate) fn money(amount: f64, currency: &str) -> String {
    let digits = if amount != 0.0 && amount.abs() < 0.01 {
        ((1.0 - amount.abs().log10().floor()) as usize).min(8)
    } else {
        2
    };
    let number = format!("{amount:.digits$}");
    match currency {
        "USD" => format!("${number}"),
        other => format!("{number} {other}"),
    }
}

/// A whole number with thousands separators, for prose (`1,000,000 requests`).
pub(crate) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A percentage to a tenth at most (`80%`, `12.5%`).
pub(crate) fn percent(value: f64) -> String {
    format!("{}%", (value * 10.0).round() / 10.0)
}

/// A budget's amount (a limit, what was used) in its unit.
fn in_unit(amount: f64, unit: BudgetUnit, currency: &str) -> String {
    match unit {
        BudgetUnit::Requests => format!("{amount:.0} requests"),
        BudgetUnit::Cost => money(amount, currency),
    }
}

/// How much of its budget an API used in the month, in percent.
fn budget_used(usage: &ApiUsage) -> Option<f64> {
    let budget = usage.budget.as_ref().filter(|b| b.limit > 0.0)?;
    let used = match budget.unit {
        BudgetUnit::Requests => usage.requests as f64,
        BudgetUnit::Cost => usage.cost,
    };
    Some(used / budget.limit * 100.0)
}

/// The month the page opens on: `?month=YYYY-MM`, else this one.
fn initial_month() -> String {
    use_query_map()
        .get_untracked()
        .get("month")
        .filter(|m| is_month(m))
        .unwrap_or_else(this_month)
}

/// What the budgets and the price table are edited from; loaded again only after a save,
/// so the live refresh of the report never rebuilds a form being filled in.
#[derive(Clone, Serialize, Deserialize)]
struct Setup {
    pricing: Pricing,
    apis: Vec<Api>,
    budgets: BTreeMap<String, Budget>,
}

/// The Usage page.
#[component]
pub fn UsagePage() -> impl IntoView {
    let client = AdminClient::new();
    let month = RwSignal::new(initial_month());
    let reload = Reload::new();
    let tick = live_tick();
    let report = Resource::new(move || (month.get(), tick.get(), reload.track()), {
        let client = client.clone();
        move |(month, _, _): (String, u64, u32)| {
            let client = client.clone();
            async move {
                client
                    .get::<UsageReport>(&format!("/portico/usage?month={}", segment(&month)))
                    .await
            }
        }
    });
    let setup = Resource::new(
        move || reload.track(),
        move |_| {
            let client = client.clone();
            async move {
                let pricing = client.get::<Pricing>("/portico/pricing").await?;
                let apis = client
                    .get::<Page<Api>>("/v2/apis?maxResults=500")
                    .await?
                    .items;
                // A budget is not per month: this month's report carries every one.
                let budgets = client
                    .get::<UsageReport>("/portico/usage")
                    .await?
                    .apis
                    .into_iter()
                    .filter_map(|a| a.budget.map(|b| (a.api_id, b)))
                    .collect();
                Ok::<_, ApiFailure>(Setup {
                    pricing,
                    apis,
                    budgets,
                })
            }
        },
    );
    let editing_prices = RwSignal::new(false);
    let on_saved = Callback::new(move |()| reload.bump());
    let on_prices_saved = Callback::new(move |()| {
        editing_prices.set(false);
        reload.bump();
    });
    let delete_failure = RwSignal::new(None::<ApiFailure>);
    let pick_month = move |ev| {
        let picked = event_target_value(&ev);
        // A month input reads as empty while it is being typed into.
        if is_month(&picked) {
            month.set(picked);
        }
    };
    view! {
        <h1>"Usage"</h1>
        <section class="card">
            <h2>"Requests and cost"</h2>
            <div class="inline-form month-picker">
                <div class="field">
                    <label for="usage-month">"Month (UTC)"</label>
                    <input
                        type="month"
                        id="usage-month"
                        name="month"
                        value=month.get_untracked()
                        prop:value=move || month.get()
                        on:change=pick_month
                    />
                </div>
            </div>
            <p class="muted">
                "What AWS would charge for this traffic, at the price table below. The forecast "
                "carries the month so far on to its end. Refreshes every 2 seconds."
            </p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(r) => usage_table(r).into_any(),
                        Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Budget alerts"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(r) => alerts_table(r.alerts, &r.pricing.currency).into_any(),
                        Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let setup = match setup.await {
                    Ok(s) => s,
                    Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                };
                let Setup { pricing, apis, budgets } = setup;
                let currency = pricing.currency.clone();
                let details = pricing_details(&pricing);
                view! {
                    <section class="card">
                        <h2>"Budgets"</h2>
                        <p class="muted">
                            "A monthly limit per API, in requests or in cost. Each notification fires "
                            "once a month, when actual (or forecast) usage reaches its percent of the "
                            "limit: the console shows a banner, and a webhook, when set, gets a POST."
                        </p>
                        <ErrorBanner failure=delete_failure/>
                        {budgets_table(apis, budgets, currency, on_saved, delete_failure)}
                    </section>
                    <section class="card pricing">
                        <h2>"Price table"</h2>
                        {details}
                        <button type="button" class="secondary" on:click=move |_| editing_prices.update(|e| *e = !*e)>
                            "Edit prices"
                        </button>
                        <Show when=move || editing_prices.get()>
                            <PricingForm pricing=pricing.clone() on_saved=on_prices_saved/>
                        </Show>
                    </section>
                }
                    .into_any()
            })}
        </Transition>
    }
}

/// Every API's month, and the totals after the free tier.
fn usage_table(report: UsageReport) -> impl IntoView {
    if report.apis.is_empty() {
        return view! { <p class="empty">"No APIs yet."</p> }.into_any();
    }
    let currency = report.pricing.currency.clone();
    let rows = report
        .apis
        .iter()
        .map(|api| {
            let used = budget_used(api);
            let budget_cell = match used {
                Some(p) => {
                    let width = format!("width: {}%", p.clamp(0.0, 100.0));
                    let (warn, over) = (p >= 80.0, p >= 100.0);
                    view! {
                        <div class="meter" class:warn=warn class:over=over aria-hidden="true">
                            <span style=width></span>
                        </div>
                        <span class="percent">{percent(p)}</span>
                    }
                    .into_any()
                }
                None => view! { <span class="muted">"no budget"</span> }.into_any(),
            };
            view! {
                <tr data-api=api.api_id.clone()>
                    <td>
                        <a href=format!("/apis/{}/monitor", api.api_id)>{api.name.clone()}</a>
                        " "
                        <span class="mono muted">{api.api_id.clone()}</span>
                    </td>
                    <td data-usage="requests">{api.requests}</td>
                    <td data-usage="bytes-out">{human_bytes(api.bytes_out)}</td>
                    <td data-usage="cost">{money(api.cost, &currency)}</td>
                    <td data-usage="forecast-cost">{money(api.forecast_cost, &currency)}</td>
                    <td data-usage="budget-used" class="budget-used">{budget_cell}</td>
                </tr>
            }
        })
        .collect_view();
    let free_tier = grouped(report.pricing.free_tier_requests);
    view! {
        <div class="table-wrap">
            <table class="usage">
                <thead>
                    <tr>
                        <th scope="col">"API"</th>
                        <th scope="col">"Requests"</th>
                        <th scope="col">"Data out"</th>
                        <th scope="col">"Cost"</th>
                        <th scope="col">"Forecast cost"</th>
                        <th scope="col">"Budget used"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
                <tfoot>
                    <tr class="totals-row" data-usage-totals="">
                        <th scope="row">"Total"</th>
                        <td data-usage-total="requests">{report.requests}</td>
                        <td data-usage-total="bytes-out">{human_bytes(report.bytes_out)}</td>
                        <td data-usage-total="cost">{money(report.cost, &currency)}</td>
                        <td data-usage-total="forecast-cost">{money(report.forecast_cost, &currency)}</td>
                        <td></td>
                    </tr>
                </tfoot>
            </table>
        </div>
        <p class="hint free-tier-note">
            "API rows are before the free tier; the total is after it: the first " {free_tier}
            " requests of the month, over all APIs, cost nothing."
        </p>
    }
    .into_any()
}

/// The words for how an alert's webhook delivery went, and its badge.
fn delivery(status: DeliveryStatus) -> (&'static str, &'static str) {
    match status {
        DeliveryStatus::Pending => ("PENDING", "badge warn"),
        DeliveryStatus::Delivered => ("DELIVERED", "badge ok"),
        DeliveryStatus::Failed => ("FAILED", "badge bad"),
        DeliveryStatus::None => ("NONE", "badge"),
    }
}

/// The month's budget alerts, newest first.
fn alerts_table(alerts: Vec<BudgetAlert>, currency: &str) -> impl IntoView {
    if alerts.is_empty() {
        return view! { <p class="empty">"No budget alerts this month."</p> }.into_any();
    }
    let rows = alerts
        .into_iter()
        .map(|a| {
            let (status, badge) = delivery(a.delivery);
            let threshold = a.threshold.to_string();
            view! {
                <tr
                    data-alert-api=a.api_id.clone()
                    data-alert-type=a.notification_type.as_str()
                    data-alert-threshold=threshold
                >
                    <td><RelativeTime at=a.fired_at.clone()/></td>
                    <td>{a.api_name.clone()}</td>
                    <td class="notification-type">{a.notification_type.as_str()}</td>
                    <td class="threshold">{percent(a.threshold)} " of " {in_unit(a.limit, a.unit, currency)}</td>
                    <td class="actual">
                        {match a.notification_type {
                            NotificationType::Actual => in_unit(a.actual, a.unit, currency),
                            NotificationType::Forecasted => {
                                format!("{} (forecast {})", in_unit(a.actual, a.unit, currency), in_unit(a.forecast, a.unit, currency))
                            }
                        }}
                    </td>
                    <td class="delivery"><span class=badge>{status}</span></td>
                    <td class="attempts">{a.attempts}</td>
                    <td class="last-error reason">{a.last_error.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="alerts">
                <thead>
                    <tr>
                        <th scope="col">"Fired"</th>
                        <th scope="col">"API"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Threshold"</th>
                        <th scope="col">"Actual"</th>
                        <th scope="col">"Webhook"</th>
                        <th scope="col">"Attempts"</th>
                        <th scope="col">"Last error"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A budget in a line: its limit, then its notifications.
fn budget_summary(budget: &Budget, currency: &str) -> String {
    let notifications = budget
        .notifications
        .iter()
        .map(|n| {
            format!(
                "{} at {}",
                n.notification_type.as_str(),
                percent(n.threshold)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} a month; {notifications}",
        in_unit(budget.limit, budget.unit, currency)
    )
}

/// Every API with its budget, or a way to set one.
fn budgets_table(
    apis: Vec<Api>,
    budgets: BTreeMap<String, Budget>,
    currency: String,
    on_saved: Callback<()>,
    delete_failure: RwSignal<Option<ApiFailure>>,
) -> impl IntoView {
    if apis.is_empty() {
        return view! { <p class="empty">"No APIs yet."</p> }.into_any();
    }
    let rows = apis
        .into_iter()
        .map(|api| {
            let budget = budgets.get(&api.api_id).cloned();
            let editing = RwSignal::new(false);
            let path = format!("/portico/apis/{}/budget", segment(&api.api_id));
            let summary = budget
                .as_ref()
                .map(|b| budget_summary(b, &currency))
                .unwrap_or_else(|| "none".into());
            let webhook = budget
                .as_ref()
                .and_then(|b| b.webhook_url.clone())
                .unwrap_or_else(|| "—".into());
            let has_budget = budget.is_some();
            let api_id = api.api_id.clone();
            let on_budget_saved = Callback::new(move |()| {
                editing.set(false);
                on_saved.run(());
            });
            view! {
                <tr data-budget-api=api.api_id.clone()>
                    <td>{api.name.clone()} " " <span class="mono muted">{api.api_id.clone()}</span></td>
                    <td class="budget-summary">{summary}</td>
                    <td class="mono webhook">{webhook}</td>
                    <td class="actions">
                        <button type="button" class="secondary" on:click=move |_| editing.update(|e| *e = !*e)>
                            {if has_budget { "Edit budget" } else { "Set budget" }}
                        </button>
                        {has_budget
                            .then(|| {
                                view! {
                                    <DeleteButton path label="Delete budget" on_deleted=on_saved failure=delete_failure/>
                                }
                            })}
                    </td>
                </tr>
                <Show when=move || editing.get()>
                    <tr class="edit-row">
                        <td colspan="4">
                            <BudgetForm api_id=api_id.clone() existing=budget.clone() on_saved=on_budget_saved/>
                        </td>
                    </tr>
                </Show>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="budgets">
                <thead>
                    <tr>
                        <th scope="col">"API"</th>
                        <th scope="col">"Budget"</th>
                        <th scope="col">"Webhook"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The price table as it stands.
fn pricing_details(p: &Pricing) -> impl IntoView {
    let c = p.currency.as_str();
    view! {
        <p class="muted">
            "AWS's list prices (US East) for HTTP, REST and WebSocket APIs, dated "
            <strong data-pricing="effectiveDate">{p.effective_date.clone()}</strong>
            ". Edit them when AWS's change, or to price in another currency."
        </p>
        <dl class="details">
            <dt>"HTTP APIs, per million requests"</dt>
            <dd data-pricing="httpRequestsPerMillion">{money(p.http_requests_per_million, c)}</dd>
            <dt>"REST APIs, per million requests"</dt>
            <dd data-pricing="restRequestsPerMillion">{money(p.rest_requests_per_million, c)}</dd>
            <dt>"WebSocket APIs, per million messages"</dt>
            <dd data-pricing="websocketMessagesPerMillion">{money(p.websocket_messages_per_million, c)}</dd>
            <dt>"Data out, per GB"</dt>
            <dd data-pricing="dataOutPerGb">{money(p.data_out_per_gb, c)}</dd>
            <dt>"Free tier, requests a month"</dt>
            <dd data-pricing="freeTierRequests">{grouped(p.free_tier_requests)}</dd>
            <dt>"Currency"</dt>
            <dd data-pricing="currency">{p.currency.clone()}</dd>
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_in_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KB");
        assert_eq!(human_bytes(5 << 20), "5.0 MB");
        assert_eq!(human_bytes(1 << 30), "1.0 GB");
    }

    #[test]
    fn money_keeps_two_significant_digits_below_a_cent() {
        assert_eq!(money(0.0, "USD"), "$0.00");
        assert_eq!(money(1.5, "USD"), "$1.50");
        assert_eq!(money(0.001, "USD"), "$0.0010");
        assert_eq!(money(0.000_035, "USD"), "$0.000035");
        assert_eq!(money(2.0, "EUR"), "2.00 EUR");
    }

    #[test]
    fn numbers_and_percents_read_as_people_say_them() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(12_345), "12,345");
        assert_eq!(percent(80.0), "80%");
        assert_eq!(percent(12.54), "12.5%");
    }

    #[test]
    fn budgets_are_used_in_their_unit() {
        let mut usage = ApiUsage {
            requests: 85,
            cost: 0.5,
            ..Default::default()
        };
        assert_eq!(budget_used(&usage), None);
        usage.budget = Some(Budget {
            unit: BudgetUnit::Requests,
            limit: 100.0,
            ..Default::default()
        });
        assert_eq!(budget_used(&usage), Some(85.0));
        usage.budget = Some(Budget {
            unit: BudgetUnit::Cost,
            limit: 2.0,
            ..Default::default()
        });
        assert_eq!(budget_used(&usage), Some(25.0));
    }
}
