//! Custom domain names: the list, and the form that creates one.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use portico_model::{
    CertificateSummary, DOMAIN_AVAILABLE, DomainName, ENDPOINT_REGIONAL, Page,
    SECURITY_POLICY_TLS_1_2, TRUSTSTORE_URI_SCHEME, Truststore, certificate_covers,
    validate_domain_name,
};
use serde_json::{Value, json};

use super::certificates::{certificate_id, certificate_label, certificate_summaries};
use crate::client::{AdminClient, ApiFailure};
use crate::components::checkbox_field::CheckboxField;
use crate::components::error_banner::ErrorBanner;
use crate::components::resource_form::{FormState, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// The console page of a domain (its name is a valid path segment, `*` included).
pub(crate) fn domain_page(name: &str) -> String {
    format!("/domains/{name}")
}

/// The domain names, and a form to create one.
#[component]
pub fn DomainsPage() -> impl IntoView {
    let client = AdminClient::new();
    let domains = Resource::new(|| (), {
        let client = client.clone();
        move |_| {
            let client = client.clone();
            async move {
                client
                    .get::<Page<DomainName>>("/v2/domainnames?maxResults=500")
                    .await
                    .map(|p| p.items)
            }
        }
    });
    // What a new domain can be served with: the certificates and the truststores.
    let choices = Resource::new(
        || (),
        move |_| {
            let client = client.clone();
            async move {
                let certificates = certificate_summaries(&client).await?;
                let truststores = client
                    .get::<Page<Truststore>>("/portico/truststores")
                    .await?
                    .items;
                Ok::<_, ApiFailure>((certificates, truststores))
            }
        },
    );
    view! {
        <h1>"Custom domain names"</h1>
        <section class="card">
            <h2>"Your domain names"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = match domains.await {
                        Ok(list) => list,
                        Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    };
                    if list.is_empty() {
                        return view! {
                            <p class="empty">"No custom domain names yet. Create one below."</p>
                        }
                            .into_any();
                    }
                    let rows = list.into_iter().map(domain_row).collect_view();
                    view! {
                        <div class="table-wrap">
                            <table class="domains">
                                <thead>
                                    <tr>
                                        <th scope="col">"Domain name"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Certificate"</th>
                                        <th scope="col">"Endpoint type"</th>
                                        <th scope="col">"Security policy"</th>
                                        <th scope="col">"Mutual TLS"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Create a domain name"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok((certificates, _)) if certificates.is_empty() => {
                            view! {
                                <p class="empty no-certificates">
                                    "A domain name is served with a certificate: "
                                    <a href="/certificates">"import or generate one"</a>
                                    " first."
                                </p>
                            }
                                .into_any()
                        }
                        Ok((certificates, truststores)) => {
                            view! { <CreateDomainForm certificates truststores/> }.into_any()
                        }
                        Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn domain_row(d: DomainName) -> impl IntoView {
    let config = d
        .domain_name_configurations
        .first()
        .cloned()
        .unwrap_or_default();
    let status = config
        .domain_name_status
        .clone()
        .unwrap_or_else(|| "—".into());
    let status_class = if status == DOMAIN_AVAILABLE {
        "badge ok"
    } else {
        "badge warn"
    };
    let arn = d.certificate_arn().unwrap_or_default().to_owned();
    let mtls = d
        .truststore_name()
        .map_or_else(|| "off".to_owned(), |t| format!("on ({t})"));
    view! {
        <tr data-domain=d.domain_name.clone()>
            <td class="mono domain-name">
                <a href=domain_page(&d.domain_name)>{d.domain_name.clone()}</a>
            </td>
            <td><span class=status_class>{status}</span></td>
            <td class="mono certificate-id" title=arn.clone()>{certificate_id(&arn).to_owned()}</td>
            <td>{config.endpoint_type.unwrap_or_default()}</td>
            <td class="mono">{config.security_policy.unwrap_or_default()}</td>
            <td class="mtls">{mtls}</td>
        </tr>
    }
}

/// What the create form holds, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct DomainInput {
    pub domain_name: String,
    pub certificate_arn: String,
    pub mutual_tls: bool,
    pub truststore_uri: String,
}

/// CreateDomainName's request, checked as the admin API checks it where the console can
/// (the name's shape, a certificate and truststore picked); whether the certificate
/// covers the name is the API's to say.
pub(crate) fn domain_body(input: &DomainInput) -> Result<Value, ApiFailure> {
    let name = validate_domain_name(input.domain_name.trim())
        .map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    if input.certificate_arn.is_empty() {
        return Err(ApiFailure::invalid(
            "certificateArn",
            "Pick the certificate to serve the domain with",
        ));
    }
    let mut body = json!({
        "domainName": name,
        "domainNameConfigurations": [{
            "certificateArn": input.certificate_arn,
            "endpointType": ENDPOINT_REGIONAL,
            "securityPolicy": SECURITY_POLICY_TLS_1_2,
        }],
    });
    if input.mutual_tls {
        if !input.truststore_uri.starts_with(TRUSTSTORE_URI_SCHEME) {
            return Err(ApiFailure::invalid(
                "truststoreUri",
                "Pick the truststore that client certificates must chain to",
            ));
        }
        body["mutualTlsAuthentication"] = json!({ "truststoreUri": input.truststore_uri });
    }
    Ok(body)
}

/// The admin API names fields by their place in the request
/// (`domainNameConfigurations[0].certificateArn`, `mutualTlsAuthentication.truststoreUri`);
/// the form shows them beside the input for that part.
pub(crate) fn place_domain_failure(mut failure: ApiFailure) -> ApiFailure {
    if let Some(field) = failure.field.as_deref() {
        let lower = field.to_ascii_lowercase();
        if lower.contains("certificate") {
            failure.field = Some("certificateArn".into());
        } else if lower.contains("truststore") || lower.contains("mutualtls") {
            failure.field = Some("truststoreUri".into());
        }
    }
    failure
}

/// The first certificate (by the list's order) that covers `domain`.
fn covering(certificates: &[CertificateSummary], domain: &str) -> Option<String> {
    let domain = domain.trim().to_ascii_lowercase();
    certificates
        .iter()
        .find(|c| {
            let mut names = c.subject_alternative_name_summaries.clone();
            names.push(c.domain_name.clone());
            certificate_covers(&names, &domain)
        })
        .map(|c| c.certificate_arn.clone())
}

/// Creates a domain name and opens it: the name, the certificate it is served with, TLS
/// 1.2 as the security policy, and mutual TLS with a truststore if asked for.
#[component]
fn CreateDomainForm(
    certificates: Vec<CertificateSummary>,
    truststores: Vec<Truststore>,
) -> impl IntoView {
    let navigate = use_navigate();
    let domain_name = RwSignal::new(String::new());
    let certificate_arn = RwSignal::new(
        certificates
            .first()
            .map(|c| c.certificate_arn.clone())
            .unwrap_or_default(),
    );
    let mutual_tls = RwSignal::new(false);
    let truststore_uri = RwSignal::new(
        truststores
            .first()
            .map(|t| t.truststore_uri.clone())
            .unwrap_or_default(),
    );
    // Typing a name picks a certificate that covers it, unless the one picked does.
    let known = StoredValue::new(certificates.clone());
    Effect::new(move |_| {
        let name = domain_name.get();
        known.with_value(|all| {
            let picked = certificate_arn.get_untracked();
            let picked_covers = all
                .iter()
                .filter(|c| c.certificate_arn == picked)
                .any(|c| covering(std::slice::from_ref(c), &name).is_some());
            if !picked_covers && let Some(arn) = covering(all, &name) {
                certificate_arn.set(arn);
            }
        });
    });
    let state = FormState::new(&[
        "domainName",
        "certificateArn",
        "mutualTlsAuthentication",
        "truststoreUri",
    ]);
    let (errors, busy) = (state.errors, state.busy);
    let client = AdminClient::new();
    let on_submit = Callback::new(move |()| {
        let input = DomainInput {
            domain_name: domain_name.get_untracked(),
            certificate_arn: certificate_arn.get_untracked(),
            mutual_tls: mutual_tls.get_untracked(),
            truststore_uri: truststore_uri.get_untracked(),
        };
        let body = match domain_body(&input) {
            Ok(body) => body,
            Err(e) => return errors.set(e),
        };
        busy.set(true);
        let (client, navigate) = (client.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            let answer = client.post::<DomainName>("/v2/domainnames", body).await;
            busy.set(false);
            match answer {
                Ok(created) => navigate(&domain_page(&created.domain_name), Default::default()),
                // A refusal naming a nested field goes beside the input for it.
                Err(e) => errors.set(place_domain_failure(e)),
            }
        });
    });
    let certificate_options = certificates
        .iter()
        .map(|c| (c.certificate_arn.clone(), certificate_label(c)))
        .collect::<Vec<_>>();
    let has_truststores = !truststores.is_empty();
    let truststore_options = truststores
        .iter()
        .map(|t| {
            (
                t.truststore_uri.clone(),
                format!("{} ({} certificates)", t.name, t.certificates),
            )
        })
        .collect::<Vec<_>>();
    let truststore_pick = move || {
        if !mutual_tls.get() {
            return None;
        }
        let error = errors.field("truststoreUri");
        Some(if has_truststores {
            view! {
                <SelectField
                    id="domain-truststore"
                    label="Truststore"
                    field="truststoreUri"
                    value=truststore_uri
                    errors
                    options=truststore_options.clone()
                    hint="Client certificates must chain to one of its CA certificates"
                />
            }
            .into_any()
        } else {
            view! {
                <div class="field" data-field="truststoreUri">
                    <span class="label">"Truststore"</span>
                    <p class="hint no-truststore">
                        "No truststores yet: "
                        <a href="/certificates#truststores">"upload one"</a>
                        " on the Certificates page."
                    </p>
                    <p class="field-error" role="alert">{move || error.get()}</p>
                </div>
            }
            .into_any()
        })
    };
    view! {
        <ResourceForm class="domain-form" state submit_label="Create domain name" on_submit>
            <TextField
                id="domain-name"
                label="Domain name"
                field="domainName"
                value=domain_name
                errors
                placeholder="api.example.test"
                hint="A name such as api.example.test, or a wildcard such as *.example.test for every name one label under it"
                required=true
            />
            <SelectField
                id="domain-certificate"
                label="Certificate"
                field="certificateArn"
                value=certificate_arn
                errors
                options=certificate_options
                hint="It must cover the name; typing the name picks one that does"
            />
            <div class="field" data-field="securityPolicy">
                <span class="label">"Security policy"</span>
                <p class="mono security-policy">{SECURITY_POLICY_TLS_1_2}</p>
                <p class="hint">
                    "TLS 1.2 and 1.3 only, as for HTTP APIs on AWS; Portico refuses TLS_1_0 rather than weaken it."
                </p>
            </div>
            <div class="field" data-field="endpointType">
                <span class="label">"Endpoint type"</span>
                <p class="mono">{ENDPOINT_REGIONAL}</p>
                <p class="hint">"Served by your proxy nodes; point the name's DNS at them."</p>
            </div>
            <CheckboxField
                id="domain-mutual-tls"
                label="Mutual TLS: require a client certificate"
                field="mutualTlsAuthentication"
                value=mutual_tls
                errors
            />
            {truststore_pick}
        </ResourceForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> DomainInput {
        DomainInput {
            domain_name: " API.example.test ".into(),
            certificate_arn: "arn:aws:acm:us-east-1:000000000000:certificate/c".into(),
            mutual_tls: false,
            truststore_uri: "s3://partners".into(),
        }
    }

    #[test]
    fn a_domain_is_created_regional_with_tls_1_2() {
        assert_eq!(
            domain_body(&input()).expect("valid"),
            json!({
                "domainName": "api.example.test",
                "domainNameConfigurations": [{
                    "certificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/c",
                    "endpointType": "REGIONAL",
                    "securityPolicy": "TLS_1_2",
                }],
            })
        );
        let mtls = DomainInput {
            mutual_tls: true,
            ..input()
        };
        assert_eq!(
            domain_body(&mtls).expect("valid")["mutualTlsAuthentication"],
            json!({ "truststoreUri": "s3://partners" })
        );
        let none = DomainInput {
            mutual_tls: true,
            truststore_uri: String::new(),
            ..input()
        };
        assert_eq!(
            domain_body(&none)
                .expect_err("no truststore")
                .field
                .as_deref(),
            Some("truststoreUri")
        );
        let bad = DomainInput {
            domain_name: "localhost".into(),
            ..input()
        };
        assert_eq!(
            domain_body(&bad).expect_err("one label").field.as_deref(),
            Some("domainName")
        );
    }

    #[test]
    fn nested_fields_are_shown_beside_their_input() {
        let placed = |field: &str| {
            place_domain_failure(ApiFailure::invalid(field, "m"))
                .field
                .expect("field")
        };
        assert_eq!(
            placed("domainNameConfigurations[0].certificateArn"),
            "certificateArn"
        );
        assert_eq!(
            placed("mutualTlsAuthentication.truststoreUri"),
            "truststoreUri"
        );
        assert_eq!(placed("domainName"), "domainName");
    }

    #[test]
    fn typing_a_name_finds_a_covering_certificate() {
        let cert = |arn: &str, name: &str| CertificateSummary {
            certificate_arn: arn.into(),
            domain_name: name.into(),
            ..Default::default()
        };
        let all = [cert("a", "api.example.test"), cert("w", "*.example.test")];
        assert_eq!(covering(&all, "API.example.test").as_deref(), Some("a"));
        assert_eq!(covering(&all, "www.example.test").as_deref(), Some("w"));
        assert_eq!(covering(&all, "other.test"), None);
    }
}
