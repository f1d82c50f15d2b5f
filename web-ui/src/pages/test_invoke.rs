use leptos::prelude::*;
use portico_model::{Page, Route, RouteKey, RouteMethod, Stage, TestInvokeResponse};
use serde_json::json;

use super::{current_api_id, method_options, parse_pairs};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::select_field::SelectField;
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

/// Sends one request to a stage through a proxy node and shows what came back.
#[component]
pub fn TestInvokePage() -> impl IntoView {
    let client = AdminClient::new();
    let api_id = current_api_id();
    let base = format!("/v2/apis/{}", segment(&api_id));
    let data = Resource::new(|| (), {
        let (client, base) = (client.clone(), base.clone());
        move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let stages = client.get::<Page<Stage>>(&format!("{base}/stages")).await?;
                let routes = client
                    .get::<Page<Route>>(&format!("{base}/routes?maxResults=500"))
                    .await?;
                Ok::<_, ApiFailure>((stages.items, routes.items))
            }
        }
    });

    let stage = RwSignal::new(String::new());
    let route = RwSignal::new(String::new());
    let method = RwSignal::new("GET".to_owned());
    let path = RwSignal::new("/".to_owned());
    let headers = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let errors = FormErrors::new(&[
        "stageName",
        "httpMethod",
        "pathWithQueryString",
        "headers",
        "body",
    ]);
    let result = RwSignal::new(None::<TestInvokeResponse>);
    let busy = RwSignal::new(false);

    // Picking a route fills in its method and path (parameters left for the user).
    Effect::new(move |_| {
        let key = route.get();
        if key.is_empty() {
            return;
        }
        if let Ok(RouteKey::Route { method: m, path: p }) = RouteKey::parse(&key) {
            if let RouteMethod::Method(m) = m {
                method.set(m.as_str().to_owned());
            }
            path.set(p.to_string().replace("{proxy+}", ""));
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        result.set(None);
        let headers = match parse_pairs(&headers.get_untracked(), ':', "headers") {
            Ok(h) => h,
            Err(e) => return errors.set(e),
        };
        busy.set(true);
        let b = body.get_untracked();
        let request = json!({
            "stageName": stage.get_untracked(),
            "httpMethod": method.get_untracked(),
            "pathWithQueryString": path.get_untracked().trim(),
            "headers": headers,
            "body": (!b.is_empty()).then_some(b),
        });
        let (client, url) = (
            client.clone(),
            format!("/portico/apis/{}/test-invoke", segment(&api_id)),
        );
        leptos::task::spawn_local(async move {
            let answer = client.post::<TestInvokeResponse>(&url, request).await;
            busy.set(false);
            match answer {
                Ok(r) => result.set(Some(r)),
                Err(e) => errors.set(e),
            }
        });
    };

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let on_submit = on_submit.clone();
                Suspend::new(async move {
                    let (stages, routes) = match data.await {
                        Ok(d) => d,
                        Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                    };
                    if stages.is_empty() {
                        return view! {
                            <section class="card">
                                <p class="empty">"Create a stage first: requests are sent to a stage."</p>
                            </section>
                        }
                            .into_any();
                    }
                    if stage.get_untracked().is_empty() {
                        stage.set(stages[0].stage_name.clone());
                    }
                    let stage_options = stages
                        .iter()
                        .map(|s| (s.stage_name.clone(), s.stage_name.clone()))
                        .collect();
                    let mut route_options = vec![(String::new(), "Any path".to_owned())];
                    route_options.extend(
                        routes.iter().map(|r| (r.route_key.clone(), r.route_key.clone())),
                    );
                    let method_options = method_options(false);
                    view! {
                        <section class="card">
                            <h2>"Test"</h2>
                            <p class="muted">
                                "Sends a request through a proxy node, exactly as a client calling the invoke URL would."
                            </p>
                            <form class="test-form" on:submit=on_submit>
                                <ErrorBanner failure=errors.general()/>
                                <div class="form-grid">
                                    <SelectField id="test-stage" label="Stage" field="stageName" value=stage errors options=stage_options/>
                                    <SelectField id="test-route" label="Route" field="route" value=route errors options=route_options/>
                                    <SelectField id="test-method" label="Method" field="httpMethod" value=method errors options=method_options/>
                                    <TextField
                                        id="test-path"
                                        label="Path and query"
                                        field="pathWithQueryString"
                                        value=path
                                        errors
                                        placeholder="/notes?limit=2"
                                        required=true
                                    />
                                </div>
                                <div class="form-grid">
                                    <TextAreaField
                                        id="test-headers"
                                        label="Headers"
                                        field="headers"
                                        value=headers
                                        errors
                                        placeholder="accept: application/json"
                                        hint="One name: value per line"
                                    />
                                    <TextAreaField id="test-body" label="Body" field="body" value=body errors/>
                                </div>
                                <button type="submit" class="primary" disabled=move || busy.get()>
                                    {move || if busy.get() { "Sending…" } else { "Send" }}
                                </button>
                            </form>
                        </section>
                    }
                        .into_any()
                })
            }}
        </Transition>
        {move || {
            result
                .get()
                .map(|r| {
                    let class = if r.status < 400 { "status ok" } else { "status bad" };
                    view! {
                        <section class="card test-result" aria-live="polite">
                            <h2>"Response"</h2>
                            <dl class="details">
                                <dt>"Status"</dt>
                                <dd class=class id="test-status">{r.status}</dd>
                                <dt>"Latency"</dt>
                                <dd id="test-latency">{format!("{:.2} ms", r.latency_micros as f64 / 1000.0)}</dd>
                                <dt>"Node"</dt>
                                <dd class="mono">{r.node_id.clone()}</dd>
                                <dt>"URL"</dt>
                                <dd class="mono">{r.url.clone()}</dd>
                            </dl>
                            <h3>"Headers"</h3>
                            <div class="table-wrap">
                                <table class="headers">
                                    <tbody>
                                        {r
                                            .multi_value_headers
                                            .iter()
                                            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
                                            .map(|(k, v)| view! { <tr><th scope="row">{k}</th><td class="mono">{v}</td></tr> })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <h3>"Body" {r.body_truncated.then_some(" (first 1 MiB)")}</h3>
                            <pre id="test-body-out">{r.body.clone()}</pre>
                        </section>
                    }
                })
        }}
    }
}
