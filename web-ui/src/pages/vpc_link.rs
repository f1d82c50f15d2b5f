//! One VPC link: what it is, renaming it, its targets and how nodes check and balance
//! them, each target's health as every node sees it, and deleting it.
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;
use portico_model::{VpcLink, VpcLinkTargetsView};
use serde_json::json;

use super::vpc_link_health::VpcLinkHealth;
use super::vpc_link_targets_form::{VpcLinkTargetsForm, targets_path};
use super::vpc_links::status_class;
use super::{Reload, live_tick};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::delete_button::DeleteButton;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::relative_time::RelativeTime;
use crate::components::text_field::TextField;

/// A VPC link's page.
#[component]
pub fn VpcLinkPage() -> impl IntoView {
    let client = AdminClient::new();
    let id = use_params_map()
        .get_untracked()
        .get("vpc_link_id")
        .unwrap_or_default();
    let base = format!("/v2/vpclinks/{}", segment(&id));
    let reload = Reload::new();
    let link = Resource::new(move || reload.track(), {
        let (client, base) = (client.clone(), base.clone());
        move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move { client.get::<VpcLink>(&base).await }
        }
    });
    // The form starts from what is stored, loaded once: the health below refreshes on its
    // own, and must not reset what is being typed.
    let targets = Resource::new(|| (), {
        let (client, path) = (client.clone(), targets_path(&id));
        move |_| {
            let (client, path) = (client.clone(), path.clone());
            async move { client.get::<VpcLinkTargetsView>(&path).await }
        }
    });
    let tick = live_tick();
    let saved_targets = Reload::new();
    let health = Resource::new(move || (tick.get(), saved_targets.track()), {
        let (client, path) = (client.clone(), targets_path(&id));
        move |_| {
            let (client, path) = (client.clone(), path.clone());
            async move {
                client
                    .get::<VpcLinkTargetsView>(&path)
                    .await
                    .map(|v| v.health)
            }
        }
    });
    let on_targets_saved = Callback::new(move |()| saved_targets.bump());
    let delete_error = RwSignal::new(None::<ApiFailure>);
    let deleted = RwSignal::new(false);
    let on_deleted = Callback::new(move |()| deleted.set(true));
    let delete_path = base.clone();
    view! {
        <p class="breadcrumb">
            <a href="/vpclinks">"VPC links"</a>
            " / "
            <span class="mono">{id.clone()}</span>
        </p>
        <Show when=move || deleted.get()>
            <Redirect path="/vpclinks"/>
        </Show>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new({
                let base = base.clone();
                async move {
                    match link.await {
                        Ok(link) => view! {
                            <h1 class="vpc-link-title">{link.name.clone()}</h1>
                            {details(&link)}
                            <section class="card vpc-link-rename">
                                <h2>"Name"</h2>
                                <RenameForm path=base.clone() name=link.name.clone() reload/>
                            </section>
                        }
                            .into_any(),
                        Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    }
                }
            })}
        </Transition>
        <section class="card vpc-link-targets">
            <h2>"Targets"</h2>
            <p class="muted">
                "Each node checks every target itself, from where it stands, and sends a "
                "request to a healthy one: by weight (round robin) or to the one with the "
                "fewest requests in flight. Names are resolved with DNS, and again on a "
                "schedule, so a headless service or a Consul name works."
            </p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match targets.await {
                        Ok(view) => {
                            view! {
                                <VpcLinkTargetsForm
                                    link_id=view.vpc_link_id.clone()
                                    config=view.config
                                    on_saved=on_targets_saved
                                />
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card vpc-link-health">
            <h2>"Target health"</h2>
            <p class="muted">"As each connected node last reported it. Refreshes every 2 seconds."</p>
            <VpcLinkHealth health/>
        </section>
        <section class="card danger-zone">
            <h2>"Delete VPC link"</h2>
            <p class="muted">
                "Its targets go with it. A link that an integration uses (or one frozen in a "
                "deployment a stage serves) cannot be deleted."
            </p>
            <ErrorBanner failure=delete_error/>
            <DeleteButton
                path=delete_path
                label="Delete VPC link"
                on_deleted
                failure=delete_error
            />
        </section>
    }
}

/// What the link is, as AWS's console shows a VPC link.
fn details(link: &VpcLink) -> impl IntoView {
    let tags = if link.tags.is_empty() {
        "none".to_owned()
    } else {
        link.tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let security_groups = if link.security_group_ids.is_empty() {
        "none".to_owned()
    } else {
        link.security_group_ids.join(", ")
    };
    view! {
        <section class="card vpc-link-details">
            <h2>"VPC link details"</h2>
            <dl class="details">
                <dt>"ID"</dt>
                <dd class="mono vpc-link-id">{link.vpc_link_id.clone()}</dd>
                <dt>"Status"</dt>
                <dd>
                    <span class=status_class(&link.vpc_link_status)>{link.vpc_link_status.clone()}</span>
                    " "
                    <span class="muted">{link.vpc_link_status_message.clone()}</span>
                </dd>
                <dt>"Subnet ids (node groups)"</dt>
                <dd class="mono subnet-ids">{link.subnet_ids.join(", ")}</dd>
                <dt>"Security groups"</dt>
                <dd class="mono">{security_groups}</dd>
                <dt>"Tags"</dt>
                <dd class="mono">{tags}</dd>
                <dt>"Version"</dt>
                <dd>{link.vpc_link_version.clone()}</dd>
                <dt>"Created"</dt>
                <dd><RelativeTime at=link.created_date.clone()/></dd>
            </dl>
        </section>
    }
}

/// Renames the link (UpdateVpcLink).
#[component]
fn RenameForm(path: String, name: String, reload: Reload) -> impl IntoView {
    let client = AdminClient::new();
    let name = RwSignal::new(name);
    let errors = FormErrors::new(&["name"]);
    let saved = RwSignal::new(false);
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        saved.set(false);
        let typed = name.get_untracked().trim().to_owned();
        if let Err(e) = portico_model::validate_vpc_link_name(&typed) {
            return errors.set(ApiFailure::invalid(e.field, e.message));
        }
        let (client, path) = (client.clone(), path.clone());
        leptos::task::spawn_local(async move {
            match client
                .patch::<VpcLink>(&path, json!({ "name": typed }))
                .await
            {
                Ok(_) => {
                    saved.set(true);
                    reload.bump();
                }
                Err(e) => errors.set(e),
            }
        });
    };
    view! {
        <form class="inline-form rename-form" on:submit=on_save>
            <ErrorBanner failure=errors.general()/>
            <TextField id="vpc-link-rename" label="Name" field="name" value=name errors required=true/>
            <button type="submit" class="primary">"Rename"</button>
            <span class="saved" role="status">{move || saved.get().then_some("Saved")}</span>
        </form>
    }
}
