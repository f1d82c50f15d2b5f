//! The form that sets an API's monthly budget: what it counts, its limit, the
//! notifications (AWS Budgets' ACTUAL or FORECASTED at a percent of the limit) and the
//! webhook alerts are POSTed to.
use leptos::prelude::*;
use portico_model::{Budget, BudgetNotification, BudgetUnit, NotificationType, PutBudget};
use serde_json::json;

use crate::client::{ApiFailure, segment};
use crate::components::form_errors::FormErrors;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// One notification as typed.
#[derive(Clone, Copy)]
struct NotificationRow {
    /// Stable while the row lives, so removing one leaves the others' inputs be.
    id: u64,
    /// `ACTUAL` or `FORECASTED`.
    kind: RwSignal<String>,
    threshold: RwSignal<String>,
    /// Why the form did not send the rows, found before sending.
    problem: RwSignal<Option<&'static str>>,
}

fn unit_value(unit: BudgetUnit) -> &'static str {
    match unit {
        BudgetUnit::Requests => "REQUESTS",
        BudgetUnit::Cost => "COST",
    }
}

/// A number as it was stored, without a trailing `.0`.
fn shown(n: f64) -> String {
    n.to_string()
}

/// A notification's threshold as typed: a percent of the limit. Its range is the admin
/// API's to judge.
fn threshold(text: &str) -> Result<f64, &'static str> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite())
        .ok_or("Enter a percent of the limit, such as 80")
}

/// Sets (PUT) `api_id`'s budget, starting from `existing`, or from one notification at
/// 80% of actual usage.
#[component]
pub fn BudgetForm(
    api_id: String,
    existing: Option<Budget>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let unit = RwSignal::new(
        unit_value(existing.as_ref().map_or(BudgetUnit::Requests, |b| b.unit)).to_owned(),
    );
    let limit = RwSignal::new(
        existing
            .as_ref()
            .map(|b| shown(b.limit))
            .unwrap_or_default(),
    );
    let webhook = RwSignal::new(
        existing
            .as_ref()
            .and_then(|b| b.webhook_url.clone())
            .unwrap_or_default(),
    );
    let stored = existing.map(|b| b.notifications).unwrap_or_else(|| {
        vec![BudgetNotification {
            notification_type: NotificationType::Actual,
            threshold: 80.0,
        }]
    });
    let next_id = RwSignal::new(stored.len() as u64);
    let rows = RwSignal::new(
        stored
            .iter()
            .enumerate()
            .map(|(n, s)| NotificationRow {
                id: n as u64,
                kind: RwSignal::new(s.notification_type.as_str().to_owned()),
                threshold: RwSignal::new(shown(s.threshold)),
                problem: RwSignal::new(None),
            })
            .collect::<Vec<_>>(),
    );
    let add = Callback::new(move |()| {
        let id = next_id.get_untracked();
        next_id.set(id + 1);
        rows.update(|r| {
            r.push(NotificationRow {
                id,
                kind: RwSignal::new("FORECASTED".into()),
                threshold: RwSignal::new("100".into()),
                problem: RwSignal::new(None),
            })
        });
    });
    let remove = Callback::new(move |id: u64| rows.update(|r| r.retain(|row| row.id != id)));

    let state = FormState::new(&["unit", "limit", "notifications", "webhookUrl"]);
    let errors = state.errors;
    let path = format!("/portico/apis/{}/budget", segment(&api_id));
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let Some(limit) = limit
                .get_untracked()
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|l| l.is_finite())
            else {
                return errors.set(ApiFailure::invalid(
                    "limit",
                    "Enter the limit: a number of requests, or a cost",
                ));
            };
            let mut notifications = Vec::new();
            let mut ok = true;
            for row in rows.get_untracked() {
                match threshold(&row.threshold.get_untracked()) {
                    Ok(threshold) => {
                        row.problem.set(None);
                        notifications.push(BudgetNotification {
                            notification_type: if row.kind.get_untracked() == "FORECASTED" {
                                NotificationType::Forecasted
                            } else {
                                NotificationType::Actual
                            },
                            threshold,
                        });
                    }
                    Err(problem) => {
                        ok = false;
                        row.problem.set(Some(problem));
                    }
                }
            }
            if !ok {
                return;
            }
            let webhook_url =
                Some(webhook.get_untracked().trim().to_owned()).filter(|u| !u.is_empty());
            let budget = PutBudget {
                unit: if unit.get_untracked() == "COST" {
                    BudgetUnit::Cost
                } else {
                    BudgetUnit::Requests
                },
                limit,
                notifications,
                webhook_url,
            };
            state.send(
                FormTarget::Replace(path.clone()),
                json!(budget),
                move |_: Budget| on_saved.run(()),
            );
        }
    });
    let id = move |suffix: &str| format!("budget-{api_id}-{suffix}");
    view! {
        <ResourceForm class="budget-form" state submit_label="Save budget" on_submit>
            <SelectField
                id=id("unit")
                label="Counts"
                field="unit"
                value=unit
                errors
                options=vec![
                    ("REQUESTS".to_owned(), "Requests".to_owned()),
                    ("COST".to_owned(), "Cost (in the price table's currency)".to_owned()),
                ]
            />
            <TextField
                id=id("limit")
                label="Monthly limit"
                field="limit"
                value=limit
                errors
                inputmode="decimal"
                placeholder="1000000"
                hint="Requests a month, or the month's cost"
            />
            <TextField
                id=id("webhook")
                label="Webhook URL (optional)"
                field="webhookUrl"
                value=webhook
                errors
                placeholder="https://hooks.example.com/budget"
                hint="Gets a JSON POST when a notification fires; without one, only the console's banner shows it"
            />
            <Notifications rows errors add remove/>
        </ResourceForm>
    }
}

/// The notification rows, Add and Remove; the admin API's message about them shows
/// beneath.
#[component]
fn Notifications(
    rows: RwSignal<Vec<NotificationRow>>,
    errors: FormErrors,
    add: Callback<()>,
    remove: Callback<u64>,
) -> impl IntoView {
    let message = errors.field("notifications");
    view! {
        <fieldset class="field notifications" class:invalid=move || message.get().is_some() data-field="notifications">
            <legend>"Notifications"</legend>
            <div class="notification-head" class:hidden=move || rows.with(Vec::is_empty) aria-hidden="true">
                <span>"When"</span>
                <span>"Reaches (% of the limit)"</span>
            </div>
            <For
                each=move || rows.get()
                key=|row| row.id
                children=move |row| {
                    let chosen = row.kind.get_untracked();
                    view! {
                        <div class="notification-row" class:invalid=move || row.problem.get().is_some()>
                            <select
                                class="notification-type"
                                aria-label="When"
                                prop:value=move || row.kind.get()
                                on:change=move |ev| row.kind.set(event_target_value(&ev))
                            >
                                <option value="ACTUAL" selected=chosen == "ACTUAL">"Actual usage"</option>
                                <option value="FORECASTED" selected=chosen == "FORECASTED">"Forecast usage"</option>
                            </select>
                            <input
                                type="text"
                                class="notification-threshold"
                                aria-label="Threshold (% of the limit)"
                                inputmode="decimal"
                                placeholder="80"
                                value=row.threshold.get_untracked()
                                prop:value=move || row.threshold.get()
                                on:input=move |ev| row.threshold.set(event_target_value(&ev))
                            />
                            <button type="button" class="danger" on:click=move |_| remove.run(row.id)>"Remove"</button>
                            <p class="field-error row-error" role="alert">{move || row.problem.get()}</p>
                        </div>
                    }
                }
            />
            <button type="button" class="secondary add-notification" on:click=move |_| add.run(())>"Add notification"</button>
            <p class="field-error" role="alert">{move || message.get()}</p>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_numbers_and_the_api_judges_their_range() {
        assert_eq!(threshold(" 80 "), Ok(80.0));
        assert_eq!(threshold("0"), Ok(0.0));
        assert!(threshold("most").is_err());
        assert!(threshold("").is_err());
        assert_eq!(shown(80.0), "80");
        assert_eq!(shown(12.5), "12.5");
    }
}
