use leptos::prelude::*;
use portico_model::{ClusterSettings, NodeList, NodeState};

use super::execute_api_endpoint_form::ExecuteApiEndpointForm;
use crate::client::AdminClient;
use crate::components::error_banner::ErrorBanner;

/// Every proxy node seen recently (all of them with "Show history"): the snapshot it
/// serves, its last answer, how far behind it is, and whether it is still there; and
/// the execute-api endpoint the whole fleet serves.
#[component]
pub fn NodesPage() -> impl IntoView {
    let client = AdminClient::new();
    let tick = super::live_tick();
    let history = RwSignal::new(false);
    let nodes = {
        let client = client.clone();
        Resource::new(
            move || (tick.get(), history.get()),
            move |(_, history)| {
                let client = client.clone();
                let path = if history {
                    "/portico/nodes?history=true"
                } else {
                    "/portico/nodes"
                };
                async move { client.get::<NodeList>(path).await }
            },
        )
    };
    let settings = Resource::new(
        || (),
        move |_| {
            let client = client.clone();
            async move { client.get::<ClusterSettings>("/portico/settings").await }
        },
    );
    view! {
        <h1>"Nodes"</h1>
        <section class="card">
            <div class="field checkbox">
                <input
                    id="show-history"
                    type="checkbox"
                    prop:checked=move || history.get()
                    on:change=move |ev| history.set(event_target_checked(&ev))
                />
                <label for="show-history">"Show history (nodes not seen for a while)"</label>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = match nodes.await {
                        Ok(l) => l,
                        Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    };
                    let current = list.current_version;
                    let rows = list
                        .items
                        .into_iter()
                        .map(|listed| {
                            let n = listed.node;
                            let behind = current.saturating_sub(n.applied_version);
                            let status = n.last_status.clone().unwrap_or_else(|| "—".into());
                            let status_class = match n.last_status.as_deref() {
                                Some("ACK") => "badge ok",
                                Some("NACK") => "badge bad",
                                _ => "badge",
                            };
                            let reason = match (&n.last_error, n.rejected_version) {
                                (Some(e), Some(v)) => format!("v{v}: {e}"),
                                (Some(e), None) => e.clone(),
                                _ => String::new(),
                            };
                            let (state, state_class) = match listed.state {
                                NodeState::Connected => ("connected", "badge ok"),
                                NodeState::Disconnected => ("disconnected", "badge"),
                                NodeState::Lost => ("lost", "badge bad"),
                            };
                            let gone = listed.state != NodeState::Connected;
                            let node_id = n.node_id.clone();
                            view! {
                                <tr data-node=node_id data-state=state class:gone=gone>
                                    <td class="mono">{n.node_id}</td>
                                    <td class="mono">{n.address}</td>
                                    <td class="version">{n.applied_version}</td>
                                    <td><span class=status_class>{status}</span></td>
                                    <td class="behind">
                                        {if behind == 0 { "up to date".to_owned() } else { format!("{behind} behind") }}
                                    </td>
                                    <td class="state"><span class=state_class>{state}</span></td>
                                    <td class="seen" title=n.last_seen>{ago(listed.seconds_since_seen)}</td>
                                    <td class="mono">{n.control_plane}</td>
                                    <td class="reason">{reason}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <p class="muted">
                            "Current configuration version: "
                            <strong id="current-version">{current}</strong>
                            ". Refreshes every 2 seconds. A node whose control plane stopped refreshing it for three heartbeats (30 s) is lost."
                        </p>
                        <div class="table-wrap">
                            <table>
                                <thead>
                                    <tr>
                                        <th scope="col">"Node"</th>
                                        <th scope="col">"Address"</th>
                                        <th scope="col">"Version"</th>
                                        <th scope="col">"Last answer"</th>
                                        <th scope="col">"Behind"</th>
                                        <th scope="col">"Stream"</th>
                                        <th scope="col">"Last seen"</th>
                                        <th scope="col">"Control plane"</th>
                                        <th scope="col">"NACK reason"</th>
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
            <h2>"Settings"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(s) => view! { <ExecuteApiEndpointForm settings=s/> }.into_any(),
                        Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `seconds` ago, in the unit a person reads it in.
fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s ago"),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_read_in_their_unit() {
        assert_eq!(super::ago(7), "7 s ago");
        assert_eq!(super::ago(125), "2 min ago");
        assert_eq!(super::ago(7200), "2 h ago");
        assert_eq!(super::ago(3 * 86_400), "3 days ago");
    }
}
