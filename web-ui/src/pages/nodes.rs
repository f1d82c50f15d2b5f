use leptos::prelude::*;
use portico_model::NodeList;

use crate::client::AdminClient;
use crate::components::error_banner::ErrorBanner;

/// Every proxy node: the snapshot it serves, its last answer, how far behind it is.
#[component]
pub fn NodesPage() -> impl IntoView {
    let client = AdminClient::new();
    let tick = super::live_tick();
    let nodes = Resource::new(
        move || tick.get(),
        move |_| {
            let client = client.clone();
            async move { client.get::<NodeList>("/portico/nodes").await }
        },
    );
    view! {
        <h1>"Nodes"</h1>
        <section class="card">
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
                        .map(|n| {
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
                            let node_id = n.node_id.clone();
                            view! {
                                <tr data-node=node_id>
                                    <td class="mono">{n.node_id}</td>
                                    <td class="mono">{n.address}</td>
                                    <td class="version">{n.applied_version}</td>
                                    <td><span class=status_class>{status}</span></td>
                                    <td class="behind">
                                        {if behind == 0 { "up to date".to_owned() } else { format!("{behind} behind") }}
                                    </td>
                                    <td>{if n.connected { "connected" } else { "disconnected" }}</td>
                                    <td>{n.last_seen}</td>
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
                            ". Refreshes every 2 seconds."
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
    }
}
