//! The form that replaces the price table costs are computed from.
use leptos::prelude::*;
use portico_model::Pricing;
use serde_json::json;

use crate::client::ApiFailure;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::text_field::TextField;

/// A price as typed; the admin API judges its value (a negative one names its field), so
/// only what is not a number at all is refused here.
fn price(text: &str, field: &'static str) -> Result<f64, ApiFailure> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite())
        .ok_or_else(|| {
            ApiFailure::invalid(field, format!("{field} must be a number, such as 1.00"))
        })
}

/// Edits the whole price table, starting from `pricing`.
#[component]
pub fn PricingForm(pricing: Pricing, on_saved: Callback<()>) -> impl IntoView {
    let effective_date = RwSignal::new(pricing.effective_date.clone());
    let currency = RwSignal::new(pricing.currency.clone());
    let http = RwSignal::new(pricing.http_requests_per_million.to_string());
    let rest = RwSignal::new(pricing.rest_requests_per_million.to_string());
    let websocket = RwSignal::new(pricing.websocket_messages_per_million.to_string());
    let data_out = RwSignal::new(pricing.data_out_per_gb.to_string());
    let free_tier = RwSignal::new(pricing.free_tier_requests.to_string());
    let state = FormState::new(&[
        "effectiveDate",
        "currency",
        "httpRequestsPerMillion",
        "restRequestsPerMillion",
        "websocketMessagesPerMillion",
        "dataOutPerGb",
        "freeTierRequests",
    ]);
    let errors = state.errors;
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let read = || -> Result<Pricing, ApiFailure> {
                Ok(Pricing {
                    effective_date: effective_date.get_untracked().trim().to_owned(),
                    currency: currency.get_untracked().trim().to_owned(),
                    http_requests_per_million: price(
                        &http.get_untracked(),
                        "httpRequestsPerMillion",
                    )?,
                    rest_requests_per_million: price(
                        &rest.get_untracked(),
                        "restRequestsPerMillion",
                    )?,
                    websocket_messages_per_million: price(
                        &websocket.get_untracked(),
                        "websocketMessagesPerMillion",
                    )?,
                    data_out_per_gb: price(&data_out.get_untracked(), "dataOutPerGb")?,
                    free_tier_requests: free_tier.get_untracked().trim().parse().map_err(|_| {
                        ApiFailure::invalid(
                            "freeTierRequests",
                            "freeTierRequests must be a whole number of requests, 0 or more",
                        )
                    })?,
                })
            };
            match read() {
                Ok(pricing) => state.send(
                    FormTarget::Replace("/portico/pricing".into()),
                    json!(pricing),
                    move |_: Pricing| on_saved.run(()),
                ),
                Err(e) => errors.set(e),
            }
        }
    });
    view! {
        <ResourceForm class="pricing-form" state submit_label="Save prices" on_submit>
            <TextField
                id="pricing-effective-date"
                label="Effective date"
                field="effectiveDate"
                value=effective_date
                errors
                placeholder="2026-12-01"
                hint="The day these prices were taken from AWS's price list, YYYY-MM-DD"
            />
            <TextField
                id="pricing-currency"
                label="Currency"
                field="currency"
                value=currency
                errors
                placeholder="USD"
                hint="A three-letter ISO 4217 code"
            />
            <TextField
                id="pricing-http"
                label="HTTP APIs, per million requests"
                field="httpRequestsPerMillion"
                value=http
                errors
                inputmode="decimal"
            />
            <TextField
                id="pricing-rest"
                label="REST APIs, per million requests"
                field="restRequestsPerMillion"
                value=rest
                errors
                inputmode="decimal"
            />
            <TextField
                id="pricing-websocket"
                label="WebSocket APIs, per million messages"
                field="websocketMessagesPerMillion"
                value=websocket
                errors
                inputmode="decimal"
            />
            <TextField
                id="pricing-data-out"
                label="Data out, per GB"
                field="dataOutPerGb"
                value=data_out
                errors
                inputmode="decimal"
                hint="A GB is 2^30 bytes, as AWS bills it"
            />
            <TextField
                id="pricing-free-tier"
                label="Free tier, requests a month"
                field="freeTierRequests"
                value=free_tier
                errors
                inputmode="numeric"
                hint="Counted over all APIs together"
            />
        </ResourceForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_must_be_numbers_and_the_api_judges_the_rest() {
        assert_eq!(price(" 1.25 ", "dataOutPerGb"), Ok(1.25));
        // A negative price goes to the admin API, whose message names the field.
        assert_eq!(price("-1", "dataOutPerGb"), Ok(-1.0));
        let refused = price("cheap", "dataOutPerGb").expect_err("not a number");
        assert_eq!(refused.field.as_deref(), Some("dataOutPerGb"));
        // JSON has no NaN: it would reach the API as null.
        assert!(price("NaN", "dataOutPerGb").is_err());
    }
}
