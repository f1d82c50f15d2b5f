//! VPC links: the list, and the form that creates one. A link's subnet ids name the node
//! groups (`portico-proxy --vpc-link-group`) that can reach its private targets.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use portico_model::{
    CreateVpcLink, Page, VPC_LINK_AVAILABLE, VpcLink, validate_create_vpc_link, validate_tags,
};
use serde_json::{Value, json};

use super::{parse_list, parse_pairs};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::relative_time::RelativeTime;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

/// The console page of a link.
pub(crate) fn vpc_link_page(id: &str) -> String {
    format!("/vpclinks/{}", segment(id))
}

/// Every VPC link, by name: the list page shows them, the integration form offers them.
pub(crate) async fn vpc_links(client: &AdminClient) -> Result<Vec<VpcLink>, ApiFailure> {
    let mut all = Vec::new();
    let mut next = None::<String>;
    loop {
        let path = match &next {
            Some(token) => format!("/v2/vpclinks?maxResults=500&nextToken={}", segment(token)),
            None => "/v2/vpclinks?maxResults=500".to_owned(),
        };
        let page = client.get::<Page<VpcLink>>(&path).await?;
        all.extend(page.items);
        next = page.next_token.filter(|t| !t.is_empty());
        if next.is_none() {
            break;
        }
    }
    all.sort_by(|a, b| (&a.name, &a.vpc_link_id).cmp(&(&b.name, &b.vpc_link_id)));
    Ok(all)
}

/// The badge class of a link's status.
pub(crate) fn status_class(status: &str) -> &'static str {
    if status == VPC_LINK_AVAILABLE {
        "badge ok"
    } else {
        "badge warn"
    }
}

/// The VPC links, and a form to create one.
#[component]
pub fn VpcLinksPage() -> impl IntoView {
    let client = AdminClient::new();
    let links = Resource::new(
        || (),
        move |_| {
            let client = client.clone();
            async move { vpc_links(&client).await }
        },
    );
    view! {
        <h1>"VPC links"</h1>
        <p class="muted intro">
            "A VPC link reaches private targets (an internal load balancer, a service's "
            "instances) that only some nodes can connect to. Its subnet ids name those node "
            "groups (portico-proxy --vpc-link-group); its targets, health check and load "
            "balancing are set on the link's page, and integrations use it as a "
            "\"Private resource via VPC link\"."
        </p>
        <section class="card">
            <h2>"Your VPC links"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = match links.await {
                        Ok(list) => list,
                        Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    };
                    if list.is_empty() {
                        return view! {
                            <p class="empty">"No VPC links yet. Create one below."</p>
                        }
                            .into_any();
                    }
                    let rows = list.into_iter().map(link_row).collect_view();
                    view! {
                        <div class="table-wrap">
                            <table class="vpc-links">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"ID"</th>
                                        <th scope="col">"Subnet ids (node groups)"</th>
                                        <th scope="col">"Security groups"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Created"</th>
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
            <h2>"Create a VPC link"</h2>
            <CreateVpcLinkForm/>
        </section>
    }
}

fn link_row(link: VpcLink) -> impl IntoView {
    let status_class = status_class(&link.vpc_link_status);
    view! {
        <tr data-vpc-link=link.vpc_link_id.clone()>
            <td class="vpc-link-name">
                <a href=vpc_link_page(&link.vpc_link_id)>{link.name.clone()}</a>
            </td>
            <td class="mono vpc-link-id">{link.vpc_link_id.clone()}</td>
            <td class="mono subnet-ids">{link.subnet_ids.join(", ")}</td>
            <td class="mono security-group-ids">{link.security_group_ids.join(", ")}</td>
            <td>
                <span class=status_class title=link.vpc_link_status_message.clone()>
                    {link.vpc_link_status.clone()}
                </span>
            </td>
            <td><RelativeTime at=link.created_date.clone()/></td>
        </tr>
    }
}

/// What the create form holds, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct VpcLinkInput {
    pub name: String,
    /// One per line or separated by commas.
    pub subnet_ids: String,
    pub security_group_ids: String,
    /// `key=value` lines.
    pub tags: String,
}

/// CreateVpcLink's request, checked with the model's rules (the ones the admin API runs)
/// before it is sent.
pub(crate) fn vpc_link_body(input: &VpcLinkInput) -> Result<Value, ApiFailure> {
    let create = CreateVpcLink {
        name: Some(input.name.trim().to_owned()),
        subnet_ids: Some(parse_list(&input.subnet_ids).unwrap_or_default()),
        security_group_ids: parse_list(&input.security_group_ids),
        tags: None,
    };
    let (name, subnets, security_groups) =
        validate_create_vpc_link(&create).map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    let tags = parse_pairs(&input.tags, '=', "tags")?;
    validate_tags(&tags).map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    let mut body = json!({ "name": name, "subnetIds": subnets });
    if !security_groups.is_empty() {
        body["securityGroupIds"] = json!(security_groups);
    }
    if !tags.is_empty() {
        body["tags"] = json!(tags);
    }
    Ok(body)
}

/// Creates a VPC link and opens its page, where its targets are set.
#[component]
fn CreateVpcLinkForm() -> impl IntoView {
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let subnet_ids = RwSignal::new(String::new());
    let security_group_ids = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    let state = FormState::new(&["name", "subnetIds", "securityGroupIds", "tags"]);
    let errors = state.errors;
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let input = VpcLinkInput {
                name: name.get_untracked(),
                subnet_ids: subnet_ids.get_untracked(),
                security_group_ids: security_group_ids.get_untracked(),
                tags: tags.get_untracked(),
            };
            let body = match vpc_link_body(&input) {
                Ok(body) => body,
                Err(e) => return errors.set(e),
            };
            let navigate = navigate.clone();
            state.send(
                FormTarget::Create("/v2/vpclinks".into()),
                body,
                move |created: VpcLink| {
                    navigate(&vpc_link_page(&created.vpc_link_id), Default::default())
                },
            );
        }
    });
    view! {
        <ResourceForm class="vpc-link-form" state submit_label="Create VPC link" on_submit>
            <TextField
                id="vpc-link-name"
                label="Name"
                field="name"
                value=name
                errors
                placeholder="orders-private"
                required=true
            />
            <TextField
                id="vpc-link-subnets"
                label="Subnet ids (node groups)"
                field="subnetIds"
                value=subnet_ids
                errors
                placeholder="private-east, subnet-0a1b2c"
                hint="Separated by commas. Nodes started with --vpc-link-group set to one of them reach the link's targets; the others answer 503 for its routes."
                required=true
            />
            <TextField
                id="vpc-link-security-groups"
                label="Security group ids"
                field="securityGroupIds"
                value=security_group_ids
                errors
                placeholder="sg-0a1b2c"
                hint="Optional, separated by commas; kept for AWS compatibility"
            />
            <TextAreaField
                id="vpc-link-tags"
                label="Tags"
                field="tags"
                value=tags
                errors
                placeholder="team=orders"
                hint="One key=value per line"
                rows=2
            />
        </ResourceForm>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> VpcLinkInput {
        VpcLinkInput {
            name: " orders ".into(),
            subnet_ids: "private-east, subnet-0a1b\n".into(),
            security_group_ids: String::new(),
            tags: "team = orders\n".into(),
        }
    }

    #[test]
    fn a_link_names_its_node_groups() {
        assert_eq!(
            vpc_link_body(&input()).expect("valid"),
            json!({
                "name": "orders",
                "subnetIds": ["private-east", "subnet-0a1b"],
                "tags": { "team": "orders" },
            })
        );
        let with_groups = VpcLinkInput {
            security_group_ids: "sg-1,sg-2".into(),
            tags: String::new(),
            ..input()
        };
        assert_eq!(
            vpc_link_body(&with_groups).expect("valid")["securityGroupIds"],
            json!(["sg-1", "sg-2"])
        );
    }

    #[test]
    fn each_bad_field_is_named_before_sending() {
        let field = |input: VpcLinkInput| vpc_link_body(&input).expect_err("bad").field;
        assert_eq!(
            field(VpcLinkInput {
                name: " ".into(),
                ..input()
            })
            .as_deref(),
            Some("name")
        );
        assert_eq!(
            field(VpcLinkInput {
                subnet_ids: " , ".into(),
                ..input()
            })
            .as_deref(),
            Some("subnetIds")
        );
        assert_eq!(
            field(VpcLinkInput {
                subnet_ids: "a b".into(),
                ..input()
            })
            .as_deref(),
            Some("subnetIds")
        );
        assert_eq!(
            field(VpcLinkInput {
                security_group_ids: "sg-1, sg-1".into(),
                ..input()
            })
            .as_deref(),
            Some("securityGroupIds")
        );
        assert_eq!(
            field(VpcLinkInput {
                tags: "no separator".into(),
                ..input()
            })
            .as_deref(),
            Some("tags")
        );
        assert_eq!(
            field(VpcLinkInput {
                tags: "aws:x=1".into(),
                ..input()
            })
            .as_deref(),
            Some("tags")
        );
    }
}
