//! Truststores: the PEM bundles of CA certificates that domains with mutual TLS check
//! client certificates against (AWS reads them from S3; Portico keeps them itself, named
//! so that `s3://bucket/key` means the bundle uploaded as `bucket/key`).
use leptos::prelude::*;
use portico_model::{DomainName, Page, Truststore, validate_truststore_name};

use super::Reload;
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::delete_button::DeleteButton;
use crate::components::error_banner::ErrorBanner;
use crate::components::pem_field::PemField;
use crate::components::relative_time::RelativeTime;
use crate::components::resource_form::{FormState, ResourceForm};
use crate::components::resource_table::ResourceTable;
use crate::components::text_field::TextField;

/// Where a truststore is uploaded, read and deleted.
pub(crate) fn truststore_path(name: &str) -> String {
    format!("/portico/truststores/{}", segment(name))
}

/// The domains among `domains` that use the truststore `name`.
fn domains_using_truststore(domains: &[DomainName], name: &str) -> Vec<String> {
    domains
        .iter()
        .filter(|d| d.truststore_name() == Some(name))
        .map(|d| d.domain_name.clone())
        .collect()
}

/// The truststores, the domains that use each, upload and delete.
#[component]
pub fn TruststoresSection() -> impl IntoView {
    let client = AdminClient::new();
    let reload = Reload::new();
    let data = Resource::new(
        move || reload.track(),
        move |_| {
            let client = client.clone();
            async move {
                let stores = client
                    .get::<Page<Truststore>>("/portico/truststores")
                    .await?
                    .items;
                let domains = client
                    .get::<Page<DomainName>>("/v2/domainnames")
                    .await?
                    .items;
                Ok::<_, ApiFailure>((stores, domains))
            }
        },
    );
    let on_saved = Callback::new(move |()| reload.bump());
    let delete_error = RwSignal::new(None::<ApiFailure>);
    view! {
        <section class="card truststores" id="truststores">
            <h2>"Truststores (mutual TLS)"</h2>
            <p class="muted">
                "A domain with mutual TLS accepts only clients whose certificate chains to one "
                "of its truststore's CA certificates. A domain names one as s3://NAME."
            </p>
            <ErrorBanner failure=delete_error/>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (stores, domains) = match data.await {
                        Ok(d) => d,
                        Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    };
                    if stores.is_empty() {
                        return view! { <p class="empty">"No truststores yet. Upload one below."</p> }
                            .into_any();
                    }
                    let rows = stores
                        .into_iter()
                        .map(|t| {
                            let used_by = domains_using_truststore(&domains, &t.name)
                                .into_iter()
                                .map(|d| view! { <li><a href=format!("/domains/{d}")>{d.clone()}</a></li> })
                                .collect_view();
                            let subjects = t
                                .subjects
                                .iter()
                                .map(|s| view! { <li>{s.clone()}</li> })
                                .collect_view();
                            view! {
                                <tr data-truststore=t.name.clone()>
                                    <td class="mono truststore-name">{t.name.clone()}</td>
                                    <td class="mono truststore-uri">{t.truststore_uri.clone()}</td>
                                    <td class="mono truststore-version">{t.truststore_version.clone()}</td>
                                    <td class="truststore-count">{t.certificates}</td>
                                    <td class="mono subjects"><ul class="plain">{subjects}</ul></td>
                                    <td class="used-by"><ul class="plain">{used_by}</ul></td>
                                    <td><RelativeTime at=t.updated_date.clone()/></td>
                                    <td class="actions">
                                        <DeleteButton
                                            path=truststore_path(&t.name)
                                            label="Delete"
                                            on_deleted=on_saved
                                            failure=delete_error
                                        />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <ResourceTable headers=&["Name", "URI", "Version", "Certificates", "Subjects", "Used by domains", "Updated"]>
                            {rows}
                        </ResourceTable>
                    }
                        .into_any()
                })}
            </Transition>
            <h3>"Upload a truststore"</h3>
            <TruststoreForm on_saved/>
        </section>
    }
}

/// Uploads a PEM bundle under a name; uploading to a name that exists replaces its bundle
/// (and its version).
#[component]
fn TruststoreForm(on_saved: Callback<()>) -> impl IntoView {
    let client = AdminClient::new();
    let name = RwSignal::new(String::new());
    let bundle = RwSignal::new(String::new());
    let uploaded = RwSignal::new(None::<Truststore>);
    let state = FormState::new(&["name", "truststore"]);
    let (errors, busy) = (state.errors, state.busy);
    let on_submit = Callback::new(move |()| {
        uploaded.set(None);
        let n = name.get_untracked().trim().to_owned();
        if let Err(e) = validate_truststore_name(&n) {
            return errors.set(ApiFailure::invalid(e.field, e.message));
        }
        let pem = bundle.get_untracked();
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return errors.set(ApiFailure::invalid(
                "truststore",
                "Paste the CA certificates (PEM), or read them from a file",
            ));
        }
        busy.set(true);
        let client = client.clone();
        leptos::task::spawn_local(async move {
            let answer = client
                .put_text::<Truststore>(&truststore_path(&n), pem)
                .await;
            busy.set(false);
            match answer {
                Ok(t) => {
                    name.set(String::new());
                    bundle.set(String::new());
                    uploaded.set(Some(t));
                    on_saved.run(());
                }
                Err(e) => errors.set(e),
            }
        });
    });
    view! {
        <ResourceForm class="truststore-form" state submit_label="Upload truststore" on_submit>
            <TextField
                id="truststore-name"
                label="Name"
                field="name"
                value=name
                errors
                placeholder="partners/ca.pem"
                hint="Letters, digits and - _ . /; a domain names it as s3://NAME"
                required=true
            />
            <PemField
                id="truststore-bundle"
                label="CA certificates"
                field="truststore"
                value=bundle
                errors
                hint="One or more PEM certificates; a client certificate must chain to one of them"
            />
        </ResourceForm>
        {move || {
            uploaded
                .get()
                .map(|t| {
                    view! {
                        <p class="saved uploaded" role="status">
                            {format!(
                                "Uploaded {} ({} certificates, version {})",
                                t.truststore_uri,
                                t.certificates,
                                t.truststore_version,
                            )}
                        </p>
                    }
                })
        }}
    }
}
