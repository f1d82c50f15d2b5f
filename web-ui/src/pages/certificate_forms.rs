//! The forms that put certificates into the control plane: ACM's ImportCertificate (new,
//! or onto an existing ARN) and Portico's self-signed development certificates.
use leptos::prelude::*;
use portico_model::{SelfSignedRequest, validate_domain_name};
use serde::Deserialize;
use serde_json::{Value, json};

use super::parse_list;
use crate::client::{AdminClient, ApiFailure, base64};
use crate::components::pem_field::PemField;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

/// ImportCertificate's answer.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Imported {
    certificate_arn: String,
}

/// The self-signed helper's answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SelfSigned {
    certificate_arn: String,
}

/// What the import form holds, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct ImportInput {
    pub certificate: String,
    pub private_key: String,
    pub chain: String,
    /// Re-import onto this certificate.
    pub arn: Option<String>,
}

/// ImportCertificate's request: the PEM text as base64 blobs, as ACM's JSON protocol
/// carries them. An empty box, or text that is plainly not the PEM it should be, is
/// refused beside its box before anything is sent; the rest is ACM's to check.
pub(crate) fn import_body(input: &ImportInput) -> Result<Value, ApiFailure> {
    let certificate = input.certificate.trim();
    let key = input.private_key.trim();
    let chain = input.chain.trim();
    if certificate.is_empty() {
        return Err(ApiFailure::invalid(
            "Certificate",
            "Paste the certificate (PEM), or read it from a file",
        ));
    }
    if !certificate.contains("-----BEGIN CERTIFICATE-----") {
        return Err(ApiFailure::invalid(
            "Certificate",
            "This is not a PEM certificate: it starts with -----BEGIN CERTIFICATE-----",
        ));
    }
    if key.is_empty() {
        return Err(ApiFailure::invalid(
            "PrivateKey",
            "Paste the certificate's private key (PEM), or read it from a file",
        ));
    }
    if !key.contains("PRIVATE KEY-----") {
        return Err(ApiFailure::invalid(
            "PrivateKey",
            "This is not a PEM private key: it starts with -----BEGIN PRIVATE KEY----- \
             (or RSA PRIVATE KEY, EC PRIVATE KEY)",
        ));
    }
    if key.contains("ENCRYPTED") {
        return Err(ApiFailure::invalid(
            "PrivateKey",
            "The private key is encrypted: import it without a passphrase",
        ));
    }
    if !chain.is_empty() && !chain.contains("-----BEGIN CERTIFICATE-----") {
        return Err(ApiFailure::invalid(
            "CertificateChain",
            "The chain holds PEM certificates, each starting with -----BEGIN CERTIFICATE-----",
        ));
    }
    let pem = |text: &str| base64(format!("{text}\n").as_bytes());
    let mut body = json!({
        "Certificate": pem(certificate),
        "PrivateKey": pem(key),
    });
    if !chain.is_empty() {
        body["CertificateChain"] = json!(pem(chain));
    }
    if let Some(arn) = &input.arn {
        body["CertificateArn"] = json!(arn);
    }
    Ok(body)
}

/// Imports a certificate with its key and chain, or re-imports onto `arn`.
#[component]
pub fn ImportCertificateForm(
    #[prop(into)] id_prefix: String,
    arn: Option<String>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let client = AdminClient::new();
    let certificate = RwSignal::new(String::new());
    let private_key = RwSignal::new(String::new());
    let chain = RwSignal::new(String::new());
    let imported = RwSignal::new(None::<String>);
    let state = FormState::new(&["Certificate", "PrivateKey", "CertificateChain"]);
    let (errors, busy) = (state.errors, state.busy);
    let reimport = arn.is_some();
    let on_submit = Callback::new(move |()| {
        imported.set(None);
        let input = ImportInput {
            certificate: certificate.get_untracked(),
            private_key: private_key.get_untracked(),
            chain: chain.get_untracked(),
            arn: arn.clone(),
        };
        let body = match import_body(&input) {
            Ok(body) => body,
            Err(e) => return errors.set(e),
        };
        busy.set(true);
        let client = client.clone();
        leptos::task::spawn_local(async move {
            let answer = client.acm::<Imported>("ImportCertificate", body).await;
            busy.set(false);
            match answer {
                Ok(done) => {
                    // The key is not kept in the page once it is stored.
                    certificate.set(String::new());
                    private_key.set(String::new());
                    chain.set(String::new());
                    imported.set(Some(done.certificate_arn));
                    on_saved.run(());
                }
                Err(e) => errors.set(e),
            }
        });
    });
    let label = if reimport {
        "Re-import certificate"
    } else {
        "Import certificate"
    };
    view! {
        <ResourceForm class="import-certificate-form" state submit_label=label on_submit>
            <PemField
                id=format!("{id_prefix}-certificate")
                label="Certificate body"
                field="Certificate"
                value=certificate
                errors
                hint="The server certificate, PEM encoded"
            />
            <PemField
                id=format!("{id_prefix}-private-key")
                label="Certificate private key"
                field="PrivateKey"
                value=private_key
                errors
                placeholder="-----BEGIN PRIVATE KEY-----"
                hint="Unencrypted, PEM encoded (PKCS #8, RSA or EC); stored sealed, never shown again"
            />
            <PemField
                id=format!("{id_prefix}-chain")
                label="Certificate chain (optional)"
                field="CertificateChain"
                value=chain
                errors
                rows=4
                hint="The intermediate certificates, PEM encoded, in order; sent to clients after the certificate"
            />
        </ResourceForm>
        {move || {
            imported
                .get()
                .map(|arn| {
                    view! {
                        <p class="saved imported" role="status">
                            {if reimport { "Re-imported " } else { "Imported " }}
                            <span class="mono">{arn}</span>
                        </p>
                    }
                })
        }}
    }
}

/// The self-signed helper's request, checked with the admin API's own rules.
pub(crate) fn self_signed_body(domain: &str, names: &str) -> Result<Value, ApiFailure> {
    let domain_name =
        validate_domain_name(domain.trim()).map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    let mut subject_alternative_names = Vec::new();
    for name in parse_list(names).unwrap_or_default() {
        let name = validate_domain_name(&name)
            .map_err(|e| ApiFailure::invalid("subjectAlternativeNames", e.message))?;
        if name != domain_name && !subject_alternative_names.contains(&name) {
            subject_alternative_names.push(name);
        }
    }
    let request = SelfSignedRequest {
        domain_name,
        subject_alternative_names,
    };
    let mut body = serde_json::to_value(&request)
        .map_err(|e| ApiFailure::invalid("domainName", format!("can't be sent: {e}")))?;
    if let Some(fields) = body.as_object_mut()
        && fields
            .get("subjectAlternativeNames")
            .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
    {
        fields.remove("subjectAlternativeNames");
    }
    Ok(body)
}

/// Generates a self-signed certificate for a name (and others) on the control plane.
#[component]
pub fn SelfSignedForm(on_saved: Callback<()>) -> impl IntoView {
    let domain = RwSignal::new(String::new());
    let names = RwSignal::new(String::new());
    let made = RwSignal::new(None::<String>);
    let state = FormState::new(&["domainName", "subjectAlternativeNames"]);
    let errors = state.errors;
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            made.set(None);
            let body = match self_signed_body(&domain.get_untracked(), &names.get_untracked()) {
                Ok(body) => body,
                Err(e) => return errors.set(e),
            };
            state.send(
                FormTarget::Create("/portico/certificates/self-signed".into()),
                body,
                move |done: SelfSigned| {
                    domain.set(String::new());
                    names.set(String::new());
                    made.set(Some(done.certificate_arn));
                    on_saved.run(());
                },
            );
        }
    });
    view! {
        <ResourceForm class="self-signed-form" state submit_label="Generate certificate" on_submit>
            <TextField
                id="self-signed-domain"
                label="Domain name"
                field="domainName"
                value=domain
                errors
                placeholder="api.example.test"
                hint="A name such as api.example.test, or a wildcard such as *.example.test"
                required=true
            />
            <TextAreaField
                id="self-signed-names"
                label="Other names (optional)"
                field="subjectAlternativeNames"
                value=names
                errors
                placeholder="www.example.test"
                hint="One per line or separated by commas"
                rows=2
            />
        </ResourceForm>
        {move || {
            made.get()
                .map(|arn| {
                    view! {
                        <p class="saved generated" role="status">
                            "Generated " <span class="mono">{arn}</span>
                        </p>
                    }
                })
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----";

    #[test]
    fn imports_send_pem_as_base64_blobs() {
        let body = import_body(&ImportInput {
            certificate: format!("{CERT}\n\n"),
            private_key: KEY.into(),
            chain: String::new(),
            arn: Some("arn:aws:acm:us-east-1:000000000000:certificate/x".into()),
        })
        .expect("valid");
        assert_eq!(body["Certificate"], base64(format!("{CERT}\n").as_bytes()));
        assert_eq!(body["PrivateKey"], base64(format!("{KEY}\n").as_bytes()));
        assert_eq!(body.get("CertificateChain"), None);
        assert_eq!(
            body["CertificateArn"],
            "arn:aws:acm:us-east-1:000000000000:certificate/x"
        );
    }

    #[test]
    fn import_mistakes_name_their_box() {
        let field = |certificate: &str, private_key: &str, chain: &str| {
            import_body(&ImportInput {
                certificate: certificate.into(),
                private_key: private_key.into(),
                chain: chain.into(),
                arn: None,
            })
            .expect_err("refused")
            .field
            .expect("a field")
        };
        assert_eq!(field("", KEY, ""), "Certificate");
        assert_eq!(field(KEY, KEY, ""), "Certificate");
        assert_eq!(field(CERT, " ", ""), "PrivateKey");
        assert_eq!(field(CERT, CERT, ""), "PrivateKey");
        assert_eq!(field(CERT, KEY, "junk"), "CertificateChain");
    }

    #[test]
    fn self_signed_requests_are_checked_names() {
        assert_eq!(
            self_signed_body(" API.example.test ", "").expect("valid"),
            json!({ "domainName": "api.example.test" })
        );
        assert_eq!(
            self_signed_body("*.example.test", "example.test, *.example.test").expect("valid"),
            json!({ "domainName": "*.example.test", "subjectAlternativeNames": ["example.test"] })
        );
        let e = self_signed_body("localhost", "").expect_err("one label");
        assert_eq!(e.field.as_deref(), Some("domainName"));
        let e = self_signed_body("a.example.test", "bad_name.test").expect_err("bad SAN");
        assert_eq!(e.field.as_deref(), Some("subjectAlternativeNames"));
    }
}
