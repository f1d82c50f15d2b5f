//! The banner every console page shows while a budget alert of this month stands, so a
//! budget passed is seen wherever the operator is, not only on the Usage page.
use leptos::prelude::*;
use portico_model::{BudgetAlert, BudgetUnit, NotificationType};
use serde::{Deserialize, Serialize};

use crate::client::ApiFailure;
use crate::pages::usage::percent;

/// `GET /portico/budgets/alerts`'s answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertList {
    #[serde(default)]
    pub alerts: Vec<BudgetAlert>,
}

/// The alerts worth a line: per API and notification type, the highest threshold passed
/// (its 80% alert says nothing once its 100% one has fired), in the order the API lists
/// them, newest first.
fn standing(alerts: &[BudgetAlert]) -> Vec<&BudgetAlert> {
    let mut kept: Vec<&BudgetAlert> = Vec::new();
    for alert in alerts {
        let same = kept
            .iter_mut()
            .find(|k| k.api_id == alert.api_id && k.notification_type == alert.notification_type);
        match same {
            Some(k) if alert.threshold > k.threshold => *k = alert,
            Some(_) => {}
            None => kept.push(alert),
        }
    }
    kept
}

/// One alert in words.
fn sentence(alert: &BudgetAlert) -> String {
    let unit = match alert.unit {
        BudgetUnit::Requests => "requests",
        BudgetUnit::Cost => "cost",
    };
    let threshold = percent(alert.threshold);
    let what = match alert.notification_type {
        NotificationType::Actual => format!("passed {threshold}"),
        NotificationType::Forecasted => format!("is forecast to pass {threshold}"),
    };
    format!(
        "Budget alert: API {} {what} of its monthly {unit} budget ({})",
        alert.api_name,
        alert.notification_type.as_str()
    )
}

/// The banner; nothing when no alert stands (or the alerts could not be read: the page
/// itself says what is wrong with the admin API).
#[component]
pub fn BudgetBanner(alerts: Resource<Result<AlertList, ApiFailure>>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = match alerts.await {
                    Ok(list) if !list.alerts.is_empty() => list.alerts,
                    _ => return ().into_any(),
                };
                let lines = standing(&list)
                    .into_iter()
                    .map(|a| {
                        view! {
                            <li data-alert-api=a.api_id.clone() data-alert-type=a.notification_type.as_str()>
                                {sentence(a)}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="budget-banner" role="alert" data-budget-alert="">
                        <ul class="plain">{lines}</ul>
                        <a href="/usage">"See usage and budgets"</a>
                    </div>
                }
                    .into_any()
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(api: &str, kind: NotificationType, threshold: f64) -> BudgetAlert {
        BudgetAlert {
            api_id: api.into(),
            api_name: format!("{api}-name"),
            notification_type: kind,
            threshold,
            ..Default::default()
        }
    }

    #[test]
    fn one_line_per_api_and_type_at_its_highest_threshold() {
        let alerts = [
            alert("a", NotificationType::Actual, 100.0),
            alert("a", NotificationType::Actual, 80.0),
            alert("b", NotificationType::Actual, 50.0),
            alert("a", NotificationType::Forecasted, 100.0),
        ];
        let kept = standing(&alerts);
        let seen: Vec<(&str, f64)> = kept
            .iter()
            .map(|a| (a.api_id.as_str(), a.threshold))
            .collect();
        assert_eq!(seen, [("a", 100.0), ("b", 50.0), ("a", 100.0)]);
        assert_eq!(kept[2].notification_type, NotificationType::Forecasted);
    }

    #[test]
    fn alerts_read_as_a_sentence() {
        assert_eq!(
            sentence(&alert("a", NotificationType::Actual, 80.0)),
            "Budget alert: API a-name passed 80% of its monthly requests budget (ACTUAL)"
        );
        let mut forecast = alert("a", NotificationType::Forecasted, 100.0);
        forecast.unit = BudgetUnit::Cost;
        assert_eq!(
            sentence(&forecast),
            "Budget alert: API a-name is forecast to pass 100% of its monthly cost budget (FORECASTED)"
        );
    }
}
