use leptos::prelude::*;
use portico_model::{ApiServing, StageServing};

use crate::client::ApiFailure;

/// What the proxy nodes serve of one stage, beside what was deployed to it (`deployed`),
/// from the page's one `GET /portico/apis/{apiId}/serving`.
#[component]
pub fn StageServingStatus(
    serving: Resource<Result<ApiServing, ApiFailure>>,
    stage_name: String,
    deployed: Option<String>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <span class="loading">"…"</span> }>
            {move || {
                let (stage_name, deployed) = (stage_name.clone(), deployed.clone());
                Suspend::new(async move {
                    match serving.await {
                        Ok(all) => {
                            let stage = all.stages.into_iter().find(|s| s.stage_name == stage_name);
                            describe(stage, deployed).into_any()
                        }
                        Err(e) => view! { <span class="muted">{e.message}</span> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

fn describe(stage: Option<StageServing>, deployed: Option<String>) -> impl IntoView {
    let Some((stage, since)) = stage.and_then(|s| s.since_version.map(|v| (s, v))) else {
        let text = if deployed.is_some() {
            "Nothing yet: nodes are sent no deployment for this stage."
        } else {
            "Nothing: the stage has no deployment."
        };
        return view! { <div class="serving" data-serving="none"><span class="badge">{text}</span></div> }
            .into_any();
    };
    let served = stage.deployment_id.clone().unwrap_or_default();
    let class = if stage.nodes == 0 {
        "badge"
    } else if stage.nodes_serving == stage.nodes {
        "badge ok"
    } else if stage.refusals.is_empty() {
        "badge warn"
    } else {
        "badge bad"
    };
    let count = if stage.nodes == 0 {
        "no node is connected".to_string()
    } else {
        format!("{} of {} nodes", stage.nodes_serving, stage.nodes)
    };
    let other_than_deployed = deployed.as_deref().is_some_and(|d| d != served);
    let behind = stage.behind.into_iter().map(|n| {
        view! { <li class="behind">{n.node_id} " is at version " {n.applied_version}</li> }
    });
    let refusals = stage.refusals.into_iter().map(|n| {
        view! { <li class="refusal">{n.node_id} " refused version " {n.rejected_version} ": " {n.error}</li> }
    });
    view! {
        <div class="serving" data-serving=format!("{}/{}", stage.nodes_serving, stage.nodes)>
            <span class=class>{count}</span>
            " serve deployment "
            <span class="mono served-deployment">{served}</span>
            {format!(" as published in version {since} or later")}
            {other_than_deployed.then(|| view! { <strong>" (not the deployed one)"</strong> })}
            <ul class="node-states">{behind.collect_view()}{refusals.collect_view()}</ul>
        </div>
    }
    .into_any()
}
