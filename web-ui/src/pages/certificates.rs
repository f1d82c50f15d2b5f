//! Certificates for custom domain names, kept by the control plane the way AWS Certificate
//! Manager keeps imported ones (the page speaks ACM's own JSON protocol to the admin API),
//! and the truststores that domains with mutual TLS check client certificates against.
use leptos::prelude::*;
use portico_model::{CertificateDetail, CertificateSummary};
use serde::Deserialize;
use serde_json::json;

use super::Reload;
use super::certificate_forms::{ImportCertificateForm, SelfSignedForm};
use super::truststores::TruststoresSection;
use crate::client::{AdminClient, ApiFailure};
use crate::components::error_banner::ErrorBanner;

/// ACM's `ListCertificates` answer.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CertificateList {
    #[serde(default)]
    certificate_summary_list: Vec<CertificateSummary>,
    #[serde(default)]
    next_token: Option<String>,
}

/// ACM's `DescribeCertificate` answer.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Described {
    certificate: CertificateDetail,
}

/// Every certificate ACM lists, all pages of them, by domain name.
pub(crate) async fn certificate_summaries(
    client: &AdminClient,
) -> Result<Vec<CertificateSummary>, ApiFailure> {
    let mut all = Vec::new();
    let mut next = None::<String>;
    loop {
        let mut body = json!({ "MaxItems": 1000 });
        if let Some(token) = &next {
            body["NextToken"] = json!(token);
        }
        let page = client
            .acm::<CertificateList>("ListCertificates", body)
            .await?;
        all.extend(page.certificate_summary_list);
        next = page.next_token.filter(|t| !t.is_empty());
        if next.is_none() {
            break;
        }
    }
    all.sort_by(|a, b| {
        (&a.domain_name, &a.certificate_arn).cmp(&(&b.domain_name, &b.certificate_arn))
    });
    Ok(all)
}

/// Every certificate with its details (names, key, validity, the domains using it).
async fn certificate_details(client: &AdminClient) -> Result<Vec<CertificateDetail>, ApiFailure> {
    let mut details = Vec::new();
    for summary in certificate_summaries(client).await? {
        let described = client
            .acm::<Described>(
                "DescribeCertificate",
                json!({ "CertificateArn": summary.certificate_arn }),
            )
            .await?;
        details.push(described.certificate);
    }
    Ok(details)
}

/// The certificate's id: the end of its ARN (`…:certificate/<uuid>`).
pub(crate) fn certificate_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// How a certificate is named in a drop-down: its domain name and the start of its id.
pub(crate) fn certificate_label(summary: &CertificateSummary) -> String {
    let id = certificate_id(&summary.certificate_arn);
    let short = id.get(..8).unwrap_or(id);
    let mut label = format!("{} ({short}…)", summary.domain_name);
    if summary.status != portico_model::CERTIFICATE_ISSUED {
        label.push_str(&format!(" — {}", summary.status));
    }
    label
}

/// Epoch seconds (ACM's times) as a UTC date and time.
pub(crate) fn epoch_time(seconds: f64) -> String {
    chrono::DateTime::from_timestamp(seconds.floor() as i64, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| seconds.to_string())
}

/// How long until `not_after`, as people say it.
fn expires_in(not_after: f64) -> String {
    let now = chrono::Utc::now().timestamp() as f64;
    if not_after < now {
        return "expired".into();
    }
    match ((not_after - now) / 86_400.0).floor() as i64 {
        0 => "today".into(),
        1 => "in 1 day".into(),
        days => format!("in {days} days"),
    }
}

/// The domain name an `arn:aws:apigateway:REGION::/domainnames/NAME` ARN names.
pub(crate) fn domain_of_arn(arn: &str) -> &str {
    arn.rsplit_once("/domainnames/")
        .map_or(arn, |(_, name)| name)
}

/// The names a certificate covers other than its domain name.
fn other_names(c: &CertificateDetail) -> Vec<String> {
    c.subject_alternative_names
        .iter()
        .filter(|n| **n != c.domain_name)
        .cloned()
        .collect()
}

/// The certificates page: what is imported, importing (and re-importing), development
/// certificates, and the truststores for mutual TLS.
#[component]
pub fn CertificatesPage() -> impl IntoView {
    let client = AdminClient::new();
    let reload = Reload::new();
    let certificates = Resource::new(move || reload.track(), {
        let client = client.clone();
        move |_| {
            let client = client.clone();
            async move { certificate_details(&client).await }
        }
    });
    let on_saved = Callback::new(move |()| reload.bump());
    let row_failure = RwSignal::new(None::<ApiFailure>);
    view! {
        <h1>"Certificates"</h1>
        <section class="card">
            <h2>"Imported certificates"</h2>
            <p class="muted">
                "Custom domain names are served with these certificates, picked by the name a "
                "client asks for (SNI). Re-importing onto the same ARN replaces the certificate "
                "and key; nodes use it for new connections within seconds, without a restart."
            </p>
            <ErrorBanner failure=row_failure/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = match certificates.await {
                        Ok(list) => list,
                        Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    };
                    if list.is_empty() {
                        return view! {
                            <p class="empty">
                                "No certificates yet. Import one, or generate a self-signed one below."
                            </p>
                        }
                            .into_any();
                    }
                    let rows = list
                        .into_iter()
                        .map(|c| view! { <CertificateRow certificate=c on_saved failure=row_failure/> })
                        .collect_view();
                    view! {
                        <div class="table-wrap">
                            <table class="certificates">
                                <thead>
                                    <tr>
                                        <th scope="col">"Domain name"</th>
                                        <th scope="col">"Other names"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Key algorithm"</th>
                                        <th scope="col">"Expires"</th>
                                        <th scope="col">"In use by"</th>
                                        <th scope="col">"ID"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
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
            <h2>"Import a certificate"</h2>
            <p class="muted">
                "PEM text, pasted or read from files: the certificate, its unencrypted private "
                "key (RSA or EC), and the intermediate certificates that chain it to a root."
            </p>
            <ImportCertificateForm id_prefix="import" arn=None on_saved/>
        </section>
        <section class="card">
            <h2>"Generate a self-signed certificate (development)"</h2>
            <p class="muted">
                "Made on the control plane and imported like any other. No client trusts it "
                "unless told to (curl -k, or its certificate as the CA): use it to try a "
                "custom domain, not to serve one."
            </p>
            <SelfSignedForm on_saved/>
        </section>
        <TruststoresSection/>
    }
}

/// One certificate's row, its Re-import form beneath when asked for, and Delete.
#[component]
fn CertificateRow(
    certificate: CertificateDetail,
    on_saved: Callback<()>,
    failure: RwSignal<Option<ApiFailure>>,
) -> impl IntoView {
    let client = AdminClient::new();
    let reimporting = RwSignal::new(false);
    let arn = certificate.certificate_arn.clone();
    let status_class = if certificate.status == portico_model::CERTIFICATE_ISSUED {
        "badge ok"
    } else {
        "badge bad"
    };
    let others = other_names(&certificate)
        .into_iter()
        .map(|n| view! { <li>{n}</li> })
        .collect_view();
    let used_by = certificate
        .in_use_by
        .iter()
        .map(|domain_arn| {
            let name = domain_of_arn(domain_arn).to_owned();
            view! {
                <li><a href=format!("/domains/{name}") title=domain_arn.clone()>{name.clone()}</a></li>
            }
        })
        .collect_view();
    let delete = {
        let arn = arn.clone();
        move |_| {
            let (client, arn) = (client.clone(), arn.clone());
            failure.set(None);
            leptos::task::spawn_local(async move {
                match client
                    .acm::<serde_json::Value>("DeleteCertificate", json!({ "CertificateArn": arn }))
                    .await
                {
                    Ok(_) => on_saved.run(()),
                    Err(e) => failure.set(Some(e)),
                }
            });
        }
    };
    let id_prefix = format!("reimport-{}", certificate_id(&arn));
    let form_arn = arn.clone();
    view! {
        <tr data-arn=arn.clone()>
            <td class="certificate-domain mono">{certificate.domain_name.clone()}</td>
            <td class="mono other-names"><ul class="plain">{others}</ul></td>
            <td class="status"><span class=status_class>{certificate.status.clone()}</span></td>
            <td class="mono key-algorithm">{certificate.key_algorithm.clone()}</td>
            <td class="not-after" title=format!("Valid from {}", epoch_time(certificate.not_before))>
                {epoch_time(certificate.not_after)}
                <br/>
                <span class="muted">{expires_in(certificate.not_after)}</span>
            </td>
            <td class="used-by"><ul class="plain">{used_by}</ul></td>
            <td class="mono certificate-id" title=arn.clone()>{certificate_id(&arn).to_owned()}</td>
            <td class="actions">
                <button type="button" class="secondary" on:click=move |_| reimporting.update(|r| *r = !*r)>
                    "Re-import"
                </button>
                <button type="button" class="danger" on:click=delete>"Delete"</button>
            </td>
        </tr>
        <Show when=move || reimporting.get()>
            <tr class="edit-row">
                <td colspan="8">
                    <p class="muted">
                        "Replaces the certificate, key and chain of "
                        <span class="mono">{form_arn.clone()}</span>
                        "; domains using it keep it, and get the new one."
                    </p>
                    <ImportCertificateForm id_prefix=id_prefix.clone() arn=Some(form_arn.clone()) on_saved/>
                </td>
            </tr>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_certificate_and_domain() {
        let arn =
            "arn:aws:acm:us-east-1:000000000000:certificate/1234abcd-0000-4000-8000-000000000000";
        assert_eq!(certificate_id(arn), "1234abcd-0000-4000-8000-000000000000");
        assert_eq!(
            domain_of_arn("arn:aws:apigateway:us-east-1::/domainnames/*.example.test"),
            "*.example.test"
        );
        let summary = CertificateSummary {
            certificate_arn: arn.into(),
            domain_name: "api.example.test".into(),
            status: "ISSUED".into(),
            ..Default::default()
        };
        assert_eq!(certificate_label(&summary), "api.example.test (1234abcd…)");
        assert_eq!(epoch_time(0.0), "1970-01-01 00:00 UTC");
    }
}
