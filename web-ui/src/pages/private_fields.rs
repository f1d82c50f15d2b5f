//! The part of the integration form that only a private integration (an `HTTP_PROXY`
//! integration with `connectionType` `VPC_LINK`) has: the link, the URL or ARN, and TLS
//! to the target
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html).
use leptos::prelude::*;
use portico_model::{
    CONNECTION_VPC_LINK, CreateIntegration, INTEGRATION_HTTP_PROXY, TlsConfig, VpcLink,
    validate_integration,
};
use serde_json::{Value, json};

use super::method_options;
use crate::client::ApiFailure;
use crate::components::checkbox_field::CheckboxField;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

const URI_HINT: &str = "An http(s):// URL: its host is sent as Host (and SNI) and its path \
    as the backend path, while the connection goes to one of the link's healthy targets. Or \
    an ELB listener or Cloud Map service ARN, as AWS definitions name them: on Portico both \
    stand for the link's targets, and the client's path is sent as it is.";

/// What a private integration's fields hold, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrivateInput {
    pub uri: String,
    pub method: String,
    pub connection_id: String,
    pub tls: bool,
    /// The integration being edited speaks TLS to its target.
    pub had_tls: bool,
    pub server_name: String,
    pub timeout_in_millis: u32,
}

/// The private integration's body, checked with the model's `validate_integration` (the
/// URL or ARN, the link named, the server name) before it is sent; whether the link
/// exists is the API's to say.
pub(crate) fn private_body(input: &PrivateInput) -> Result<Value, ApiFailure> {
    let server_name = input.server_name.trim();
    if input.had_tls && !input.tls && server_name.is_empty() {
        // UpdateIntegration keeps a stored tlsConfig when the update names none, and an
        // empty one still means TLS: saying so beats a save that changes nothing.
        return Err(ApiFailure::invalid(
            "tls",
            "An update cannot take tlsConfig away: create the integration again without TLS, then delete this one",
        ));
    }
    let tls = (input.tls || !server_name.is_empty()).then(|| TlsConfig {
        server_name_to_verify: (!server_name.is_empty()).then(|| server_name.to_owned()),
    });
    let create = CreateIntegration {
        integration_type: INTEGRATION_HTTP_PROXY.into(),
        integration_uri: Some(input.uri.trim().to_owned()),
        integration_method: Some(input.method.clone()),
        timeout_in_millis: Some(input.timeout_in_millis),
        connection_type: Some(CONNECTION_VPC_LINK.into()),
        connection_id: Some(input.connection_id.clone()),
        tls_config: tls.clone(),
        ..Default::default()
    };
    validate_integration(&create).map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    let mut body = json!({
        "integrationType": INTEGRATION_HTTP_PROXY,
        "connectionType": CONNECTION_VPC_LINK,
        "connectionId": input.connection_id,
        "integrationUri": input.uri.trim(),
        "integrationMethod": input.method,
        "timeoutInMillis": input.timeout_in_millis,
    });
    if let Some(tls) = tls {
        body["tlsConfig"] = json!(tls);
    }
    Ok(body)
}

/// The link (picked from the VPC links), the URL or ARN, the method, and TLS to the target
/// with the name its certificate must have.
#[component]
pub fn PrivateFields(
    id_prefix: String,
    uri: RwSignal<String>,
    method: RwSignal<String>,
    connection_id: RwSignal<String>,
    tls: RwSignal<bool>,
    server_name: RwSignal<String>,
    links: Resource<Result<Vec<VpcLink>, ApiFailure>>,
    errors: FormErrors,
) -> impl IntoView {
    let link_error = errors.field("connectionId");
    let link_pick = {
        let id_prefix = id_prefix.clone();
        move || {
            let id_prefix = id_prefix.clone();
            Suspend::new(async move {
                let links = match links.await {
                    Ok(links) => links,
                    Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                };
                if links.is_empty() {
                    return view! {
                        <div class="field" data-field="connectionId">
                            <span class="label">"VPC link"</span>
                            <p class="hint no-vpc-links">
                                "No VPC links yet: " <a href="/vpclinks">"create one"</a> " first."
                            </p>
                            <p class="field-error" role="alert">{move || link_error.get()}</p>
                        </div>
                    }
                    .into_any();
                }
                // The drop-down shows its first link when none is picked: pick it.
                if !links
                    .iter()
                    .any(|l| connection_id.with_untracked(|c| *c == l.vpc_link_id))
                {
                    connection_id.set(links[0].vpc_link_id.clone());
                }
                let options = links
                    .iter()
                    .map(|l| {
                        (
                            l.vpc_link_id.clone(),
                            format!("{} ({})", l.name, l.vpc_link_id),
                        )
                    })
                    .collect::<Vec<_>>();
                view! {
                    <SelectField
                        id=format!("{id_prefix}-vpc-link")
                        label="VPC link"
                        field="connectionId"
                        value=connection_id
                        errors
                        options
                        hint="Its targets, health check and load balancing are set on the VPC link's page"
                    />
                }
                .into_any()
            })
        }
    };
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading VPC links…"</p> }>
            {link_pick}
        </Transition>
        <TextField
            id=format!("{id_prefix}-uri")
            label="URL or ARN"
            field="integrationUri"
            value=uri
            errors
            placeholder="http://orders.internal/v1/{proxy}"
            hint=URI_HINT
            required=true
        />
        <SelectField
            id=format!("{id_prefix}-method")
            label="Method"
            field="integrationMethod"
            value=method
            errors
            options=method_options(true)
        />
        <CheckboxField
            id=format!("{id_prefix}-tls")
            label="TLS to the target (tlsConfig)"
            field="tls"
            value=tls
            errors
            hint="The target is spoken to over HTTPS; its certificate must chain to the link's CA bundle"
        />
        <TextField
            id=format!("{id_prefix}-server-name")
            label="Server name to verify"
            field="tlsConfig"
            value=server_name
            errors
            placeholder="orders.internal.example.com"
            hint="tlsConfig.serverNameToVerify: the name the target's certificate must have, also sent as SNI; empty: the URL's host"
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PrivateInput {
        PrivateInput {
            uri: " http://orders.internal/v1/{proxy} ".into(),
            method: "ANY".into(),
            connection_id: "vl1".into(),
            tls: false,
            had_tls: false,
            server_name: String::new(),
            timeout_in_millis: 30_000,
        }
    }

    #[test]
    fn a_private_integration_names_its_link() {
        assert_eq!(
            private_body(&input()).expect("valid"),
            json!({
                "integrationType": "HTTP_PROXY",
                "connectionType": "VPC_LINK",
                "connectionId": "vl1",
                "integrationUri": "http://orders.internal/v1/{proxy}",
                "integrationMethod": "ANY",
                "timeoutInMillis": 30000,
            })
        );
        let named = PrivateInput {
            server_name: "orders.example.com".into(),
            ..input()
        };
        assert_eq!(
            private_body(&named).expect("valid")["tlsConfig"],
            json!({ "serverNameToVerify": "orders.example.com" })
        );
        let tls = PrivateInput {
            tls: true,
            ..input()
        };
        assert_eq!(private_body(&tls).expect("valid")["tlsConfig"], json!({}));
        let arn = PrivateInput {
            uri: "arn:aws:servicediscovery:us-east-2:123456789012:service/srv-0a1b2c".into(),
            ..input()
        };
        assert!(private_body(&arn).is_ok());
    }

    #[test]
    fn bad_fields_are_named_before_sending() {
        let field = |input: PrivateInput| private_body(&input).expect_err("bad").field;
        assert_eq!(
            field(PrivateInput {
                uri: "orders.internal".into(),
                ..input()
            })
            .as_deref(),
            Some("integrationUri")
        );
        assert_eq!(
            field(PrivateInput {
                connection_id: String::new(),
                ..input()
            })
            .as_deref(),
            Some("connectionId")
        );
        assert_eq!(
            field(PrivateInput {
                server_name: "bad name".into(),
                ..input()
            })
            .as_deref(),
            Some("tlsConfig")
        );
        assert_eq!(
            field(PrivateInput {
                had_tls: true,
                ..input()
            })
            .as_deref(),
            Some("tls")
        );
        let kept = PrivateInput {
            had_tls: true,
            tls: true,
            ..input()
        };
        assert_eq!(private_body(&kept).expect("valid")["tlsConfig"], json!({}));
    }
}
