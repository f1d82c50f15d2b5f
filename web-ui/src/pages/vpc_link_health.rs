//! Each target's health as every connected node last reported it: one row per node,
//! target and endpoint (the address a name resolved to).
use leptos::prelude::*;
use portico_model::{TARGET_EJECTED, TARGET_HEALTHY, TARGET_UNHEALTHY, TargetHealth};

use crate::client::ApiFailure;
use crate::components::error_banner::ErrorBanner;
use crate::components::relative_time::RelativeTime;

/// The badge class of a target's state.
pub(crate) fn state_class(state: &str) -> &'static str {
    match state {
        TARGET_HEALTHY => "badge ok",
        TARGET_UNHEALTHY => "badge bad",
        TARGET_EJECTED => "badge warn",
        _ => "badge",
    }
}

/// The health table; `health` is asked again every few seconds by the page.
#[component]
pub fn VpcLinkHealth(health: Resource<Result<Vec<TargetHealth>, ApiFailure>>) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let rows = match health.await {
                    Ok(rows) => rows,
                    Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                };
                if rows.is_empty() {
                    return view! {
                        <p class="empty no-health">
                            "No node has reported these targets yet. Nodes check a link's targets "
                            "once it has some, if they are in one of its node groups."
                        </p>
                    }
                        .into_any();
                }
                let rows = rows.into_iter().map(health_row).collect_view();
                view! {
                    <div class="table-wrap">
                        <table class="target-health">
                            <thead>
                                <tr>
                                    <th scope="col">"Node"</th>
                                    <th scope="col">"Target"</th>
                                    <th scope="col">"Endpoint"</th>
                                    <th scope="col">"State"</th>
                                    <th scope="col">"Reason"</th>
                                    <th scope="col">"Updated"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                    .into_any()
            })}
        </Transition>
    }
}

fn health_row(h: TargetHealth) -> impl IntoView {
    view! {
        <tr
            data-node=h.node_id.clone()
            data-target=h.target.clone()
            data-endpoint=h.endpoint.clone()
            data-state=h.state.clone()
        >
            <td class="mono node">{h.node_id.clone()}</td>
            <td class="mono target">{h.target.clone()}</td>
            <td class="mono endpoint">{h.endpoint.clone()}</td>
            <td class="state"><span class=state_class(&h.state)>{h.state.clone()}</span></td>
            <td class="reason">{h.reason.clone()}</td>
            <td class="updated"><RelativeTime at=h.updated.clone()/></td>
        </tr>
    }
}
