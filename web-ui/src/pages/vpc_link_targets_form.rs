//! A VPC link's targets and how nodes check and balance them, saved whole with
//! `PUT /portico/vpclinks/{id}/targets` after the model's own checks.
use leptos::prelude::*;
use portico_model::{
    HEALTH_CHECK_HTTP, HEALTH_CHECK_HTTPS, LOAD_BALANCING_LEAST_REQUEST,
    LOAD_BALANCING_ROUND_ROBIN, PutVpcLinkTargets, VpcLinkTargets, VpcLinkTargetsView,
    validate_vpc_link_targets,
};
use serde_json::{Value, json};

use super::vpc_link_target_rows::{TargetRows, TargetRowsEditor};
use crate::client::{ApiFailure, segment};
use crate::components::pem_field::PemField;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// Where a link's targets and their health are read and written.
pub(crate) fn targets_path(id: &str) -> String {
    format!("/portico/vpclinks/{}/targets", segment(id))
}

/// The API's names of the form's fields, as its errors name them.
const FIELDS: &[&str] = &[
    "targets",
    "healthCheck.protocol",
    "healthCheck.path",
    "healthCheck.intervalSeconds",
    "healthCheck.timeoutSeconds",
    "healthCheck.healthyThreshold",
    "healthCheck.unhealthyThreshold",
    "loadBalancing",
    "passiveEjection.consecutive5xx",
    "passiveEjection.baseEjectionSeconds",
    "passiveEjection.maxEjectionSeconds",
    "caBundlePem",
];

/// What the form holds, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TargetsInput {
    /// Address and weight of each row.
    pub targets: Vec<(String, String)>,
    pub protocol: String,
    pub path: String,
    pub interval: String,
    pub timeout: String,
    pub healthy: String,
    pub unhealthy: String,
    pub load_balancing: String,
    pub consecutive_5xx: String,
    pub base_ejection: String,
    pub max_ejection: String,
    pub ca_bundle: String,
}

/// A whole number typed for `field`.
fn whole(field: &str, text: &str) -> Result<u32, ApiFailure> {
    text.trim().parse::<u32>().map_err(|_| {
        ApiFailure::invalid(
            field,
            format!("{field} must be a whole number, got '{}'", text.trim()),
        )
    })
}

/// The PUT body, checked with `validate_vpc_link_targets` (the admin API's own rules)
/// before it is sent; whether the CA bundle holds real certificates, and whether a target
/// is one the upstream policy allows, are the API's to say.
pub(crate) fn targets_body(input: &TargetsInput) -> Result<Value, ApiFailure> {
    let mut targets = Vec::with_capacity(input.targets.len());
    for (i, (address, weight)) in input.targets.iter().enumerate() {
        let weight = weight.trim().parse::<u32>().map_err(|_| {
            ApiFailure::invalid(
                "targets",
                format!(
                    "targets[{i}].weight must be a whole number from 1 to 999, got '{}'",
                    weight.trim()
                ),
            )
        })?;
        targets.push(json!({ "address": address.trim(), "weight": weight }));
    }
    let mut body = json!({
        "targets": targets,
        "healthCheck": {
            "protocol": input.protocol,
            "path": input.path.trim(),
            "intervalSeconds": whole("healthCheck.intervalSeconds", &input.interval)?,
            "timeoutSeconds": whole("healthCheck.timeoutSeconds", &input.timeout)?,
            "healthyThreshold": whole("healthCheck.healthyThreshold", &input.healthy)?,
            "unhealthyThreshold": whole("healthCheck.unhealthyThreshold", &input.unhealthy)?,
        },
        "loadBalancing": input.load_balancing,
        "passiveEjection": {
            "consecutive5xx": whole("passiveEjection.consecutive5xx", &input.consecutive_5xx)?,
            "baseEjectionSeconds": whole("passiveEjection.baseEjectionSeconds", &input.base_ejection)?,
            "maxEjectionSeconds": whole("passiveEjection.maxEjectionSeconds", &input.max_ejection)?,
        },
    });
    let pem = input.ca_bundle.trim();
    if !pem.is_empty() {
        body["caBundlePem"] = json!(pem);
    }
    let parsed: PutVpcLinkTargets = serde_json::from_value(body.clone())
        .map_err(|e| ApiFailure::invalid("targets", e.to_string()))?;
    validate_vpc_link_targets(&parsed).map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    Ok(body)
}

/// The form's signals, one per input besides the target rows.
#[derive(Clone, Copy)]
struct Fields {
    protocol: RwSignal<String>,
    path: RwSignal<String>,
    interval: RwSignal<String>,
    timeout: RwSignal<String>,
    healthy: RwSignal<String>,
    unhealthy: RwSignal<String>,
    load_balancing: RwSignal<String>,
    consecutive_5xx: RwSignal<String>,
    base_ejection: RwSignal<String>,
    max_ejection: RwSignal<String>,
    ca_bundle: RwSignal<String>,
}

impl Fields {
    fn new(config: &VpcLinkTargets) -> Self {
        let s = |v: String| RwSignal::new(v);
        let hc = &config.health_check;
        let pe = &config.passive_ejection;
        Fields {
            protocol: s(hc.protocol.clone()),
            path: s(hc.path.clone()),
            interval: s(hc.interval_seconds.to_string()),
            timeout: s(hc.timeout_seconds.to_string()),
            healthy: s(hc.healthy_threshold.to_string()),
            unhealthy: s(hc.unhealthy_threshold.to_string()),
            load_balancing: s(config.load_balancing.clone()),
            consecutive_5xx: s(pe.consecutive_5xx.to_string()),
            base_ejection: s(pe.base_ejection_seconds.to_string()),
            max_ejection: s(pe.max_ejection_seconds.to_string()),
            ca_bundle: s(config.ca_bundle_pem.clone().unwrap_or_default()),
        }
    }

    /// Shows what the API stored (addresses normalised, defaults filled in).
    fn show(&self, config: &VpcLinkTargets) {
        let hc = &config.health_check;
        let pe = &config.passive_ejection;
        self.protocol.set(hc.protocol.clone());
        self.path.set(hc.path.clone());
        self.interval.set(hc.interval_seconds.to_string());
        self.timeout.set(hc.timeout_seconds.to_string());
        self.healthy.set(hc.healthy_threshold.to_string());
        self.unhealthy.set(hc.unhealthy_threshold.to_string());
        self.load_balancing.set(config.load_balancing.clone());
        self.consecutive_5xx.set(pe.consecutive_5xx.to_string());
        self.base_ejection.set(pe.base_ejection_seconds.to_string());
        self.max_ejection.set(pe.max_ejection_seconds.to_string());
        self.ca_bundle
            .set(config.ca_bundle_pem.clone().unwrap_or_default());
    }

    fn input(&self, rows: &TargetRows) -> TargetsInput {
        TargetsInput {
            targets: rows.typed(),
            protocol: self.protocol.get_untracked(),
            path: self.path.get_untracked(),
            interval: self.interval.get_untracked(),
            timeout: self.timeout.get_untracked(),
            healthy: self.healthy.get_untracked(),
            unhealthy: self.unhealthy.get_untracked(),
            load_balancing: self.load_balancing.get_untracked(),
            consecutive_5xx: self.consecutive_5xx.get_untracked(),
            base_ejection: self.base_ejection.get_untracked(),
            max_ejection: self.max_ejection.get_untracked(),
            ca_bundle: self.ca_bundle.get_untracked(),
        }
    }
}

/// The targets editor, the health check, load balancing, passive ejection and the CA
/// bundle, made once the stored values are loaded so the server-rendered form holds them.
#[component]
pub fn VpcLinkTargetsForm(
    link_id: String,
    config: VpcLinkTargets,
    on_saved: Callback<()>,
) -> impl IntoView {
    let rows = TargetRows::new(&config.targets);
    let f = Fields::new(&config);
    let state = FormState::new(FIELDS);
    let errors = state.errors;
    let saved = RwSignal::new(false);
    let path = targets_path(&link_id);
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            saved.set(false);
            let body = match targets_body(&f.input(&rows)) {
                Ok(body) => body,
                Err(e) => return errors.set(e),
            };
            state.send(
                FormTarget::Replace(path.clone()),
                body,
                move |view: VpcLinkTargetsView| {
                    rows.replace(&view.config.targets);
                    f.show(&view.config);
                    saved.set(true);
                    on_saved.run(());
                },
            );
        }
    });
    let protocols = [HEALTH_CHECK_HTTP, HEALTH_CHECK_HTTPS]
        .map(|p| (p.to_owned(), p.to_owned()))
        .to_vec();
    let balancing = vec![
        (
            LOAD_BALANCING_ROUND_ROBIN.to_owned(),
            "Round robin, by weight".to_owned(),
        ),
        (
            LOAD_BALANCING_LEAST_REQUEST.to_owned(),
            "Least request: the fewest in flight".to_owned(),
        ),
    ];
    view! {
        <ResourceForm class="vpc-link-targets-form" state submit_label="Save targets" on_submit>
            <TargetRowsEditor rows errors/>
            <fieldset class="field-group health-check">
                <legend>"Health check"</legend>
                <div class="group-grid">
                    <SelectField id="hc-protocol" label="Protocol" field="healthCheck.protocol" value=f.protocol errors options=protocols/>
                    <TextField id="hc-path" label="Path" field="healthCheck.path" value=f.path errors placeholder="/health"/>
                    <TextField id="hc-interval" label="Interval (s)" field="healthCheck.intervalSeconds" value=f.interval errors inputmode="numeric" hint="1 to 300"/>
                    <TextField id="hc-timeout" label="Timeout (s)" field="healthCheck.timeoutSeconds" value=f.timeout errors inputmode="numeric" hint="Less than the interval"/>
                    <TextField id="hc-healthy" label="Healthy threshold" field="healthCheck.healthyThreshold" value=f.healthy errors inputmode="numeric" hint="Checks passed in a row to be healthy (1 to 10)"/>
                    <TextField id="hc-unhealthy" label="Unhealthy threshold" field="healthCheck.unhealthyThreshold" value=f.unhealthy errors inputmode="numeric" hint="Checks failed in a row to be unhealthy (1 to 10)"/>
                </div>
                <p class="hint">"Every node checks every target at this path, once per interval."</p>
            </fieldset>
            <fieldset class="field-group load-balancing">
                <legend>"Load balancing"</legend>
                <div class="group-grid">
                    <SelectField id="load-balancing" label="Algorithm" field="loadBalancing" value=f.load_balancing errors options=balancing/>
                </div>
            </fieldset>
            <fieldset class="field-group passive-ejection">
                <legend>"Passive ejection"</legend>
                <div class="group-grid">
                    <TextField id="pe-consecutive" label="Consecutive 5xx" field="passiveEjection.consecutive5xx" value=f.consecutive_5xx errors inputmode="numeric" hint="5xx answers in a row that take a target out (1 to 100)"/>
                    <TextField id="pe-base" label="Base ejection (s)" field="passiveEjection.baseEjectionSeconds" value=f.base_ejection errors inputmode="numeric" hint="Doubles with each ejection in a row"/>
                    <TextField id="pe-max" label="Max ejection (s)" field="passiveEjection.maxEjectionSeconds" value=f.max_ejection errors inputmode="numeric" hint="At least the base (up to 3600)"/>
                </div>
                <p class="hint">"A refused or dropped connection ejects a target at once."</p>
            </fieldset>
            <PemField
                id="vpc-link-ca-bundle"
                label="CA bundle (PEM)"
                field="caBundlePem"
                value=f.ca_bundle
                errors
                hint="For https targets and HTTPS checks: their certificates must chain to one of these. Empty: the public web PKI roots."
            />
            <p class="saved targets-saved" role="status">{move || saved.get().then_some("Saved")}</p>
        </ResourceForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> TargetsInput {
        TargetsInput {
            targets: vec![
                ("10.0.0.1:8080".into(), "3".into()),
                ("Orders.Internal:80".into(), " 1 ".into()),
            ],
            protocol: "HTTP".into(),
            path: "/health".into(),
            interval: "5".into(),
            timeout: "2".into(),
            healthy: "2".into(),
            unhealthy: "3".into(),
            load_balancing: "LEAST_REQUEST".into(),
            consecutive_5xx: "3".into(),
            base_ejection: "10".into(),
            max_ejection: "300".into(),
            ca_bundle: "  ".into(),
        }
    }

    #[test]
    fn the_body_is_the_put_shape() {
        assert_eq!(
            targets_body(&input()).expect("valid"),
            json!({
                "targets": [
                    { "address": "10.0.0.1:8080", "weight": 3 },
                    { "address": "Orders.Internal:80", "weight": 1 },
                ],
                "healthCheck": {
                    "protocol": "HTTP", "path": "/health", "intervalSeconds": 5,
                    "timeoutSeconds": 2, "healthyThreshold": 2, "unhealthyThreshold": 3,
                },
                "loadBalancing": "LEAST_REQUEST",
                "passiveEjection": {
                    "consecutive5xx": 3, "baseEjectionSeconds": 10, "maxEjectionSeconds": 300,
                },
            })
        );
        let pem = TargetsInput {
            ca_bundle: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
            ..input()
        };
        assert!(
            targets_body(&pem).expect("valid")["caBundlePem"]
                .as_str()
                .is_some_and(|p| p.ends_with("-----END CERTIFICATE-----"))
        );
        let none = TargetsInput {
            targets: Vec::new(),
            ..input()
        };
        assert_eq!(targets_body(&none).expect("valid")["targets"], json!([]));
    }

    #[test]
    fn bad_fields_are_named_before_sending() {
        let field = |input: TargetsInput| {
            targets_body(&input)
                .expect_err("bad")
                .field
                .expect("a field")
        };
        let cases: Vec<(TargetsInput, &str)> = vec![
            (
                TargetsInput {
                    targets: vec![("10.0.0.1".into(), "1".into())],
                    ..input()
                },
                "targets",
            ),
            (
                TargetsInput {
                    targets: vec![("10.0.0.1:80".into(), "x".into())],
                    ..input()
                },
                "targets",
            ),
            (
                TargetsInput {
                    path: "health".into(),
                    ..input()
                },
                "healthCheck.path",
            ),
            (
                TargetsInput {
                    interval: "five".into(),
                    ..input()
                },
                "healthCheck.intervalSeconds",
            ),
            (
                TargetsInput {
                    timeout: "5".into(),
                    ..input()
                },
                "healthCheck.timeoutSeconds",
            ),
            (
                TargetsInput {
                    unhealthy: "11".into(),
                    ..input()
                },
                "healthCheck.unhealthyThreshold",
            ),
            (
                TargetsInput {
                    consecutive_5xx: "0".into(),
                    ..input()
                },
                "passiveEjection.consecutive5xx",
            ),
            (
                TargetsInput {
                    base_ejection: "600".into(),
                    ..input()
                },
                "passiveEjection.maxEjectionSeconds",
            ),
            (
                TargetsInput {
                    ca_bundle: "not pem".into(),
                    ..input()
                },
                "caBundlePem",
            ),
        ];
        for (bad, expected) in cases {
            assert_eq!(field(bad), expected);
        }
        let weight = targets_body(&TargetsInput {
            targets: vec![("10.0.0.1:80".into(), "x".into())],
            ..input()
        })
        .expect_err("bad weight");
        assert!(weight.message.starts_with("targets[0].weight"), "{weight}");
    }
}
