//! An API's traffic, as the AWS console's Monitor → Metrics shows it from CloudWatch:
//! requests, 4xx and 5xx, latency and integration latency over the last hour or day, by
//! stage and route, from the series the control plane keeps of what the nodes report.
use std::collections::BTreeSet;

use leptos::prelude::*;
use portico_model::{ApiMetrics, MAX_METRICS_WINDOW_SECONDS, MetricPoint, Page, Route, Stage};

use super::{current_api_id, live_tick, sort_routes};
use crate::client::{AdminClient, ApiFailure, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::line_chart::{LineChart, Series};
use crate::components::select_field::SelectField;

/// The stretches of time the tab offers, with the period each is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    /// 60 points of a minute.
    LastHour,
    /// 96 points of 15 minutes.
    LastDay,
}

impl Window {
    /// The `<select>` value.
    fn from_choice(choice: &str) -> Self {
        match choice {
            "day" => Window::LastDay,
            _ => Window::LastHour,
        }
    }

    /// `(period, window)` in seconds, as the metrics endpoint takes them.
    fn period_and_window(self) -> (i64, i64) {
        match self {
            Window::LastHour => (60, 3_600),
            Window::LastDay => (900, 86_400),
        }
    }
}

/// The route drop-down's value for "every route" is empty; a route's is its key after
/// this prefix, so that the empty key (requests no route matched) is a choice of its own.
const ROUTE_CHOICE: &str = "route:";

/// The route key a route drop-down value filters by, if any.
fn route_filter(choice: &str) -> Option<&str> {
    choice.strip_prefix(ROUTE_CHOICE)
}

/// How a route key reads in the console; requests that matched no route have none.
fn route_label(route_key: &str) -> String {
    if route_key.is_empty() {
        "(no route)".into()
    } else {
        route_key.to_owned()
    }
}

/// The metrics endpoint for `api_id` over `window`, for one stage and route when chosen.
fn metrics_path(api_id: &str, window: Window, stage: &str, route: Option<&str>) -> String {
    let (period, seconds) = window.period_and_window();
    let mut path = format!(
        "/portico/apis/{}/metrics?period={period}&window={seconds}",
        segment(api_id)
    );
    if !stage.is_empty() {
        path.push_str(&format!("&stage={}", segment(stage)));
    }
    if let Some(route) = route {
        path.push_str(&format!("&route={}", segment(route)));
    }
    path
}

/// Milliseconds as people read them: tenths below 10 ms.
fn milliseconds(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A point's time under the x axis, in UTC (the server and the browser agree on it), with
/// the day when the window is longer than an hour.
fn axis_time(rfc3339: &str, with_day: bool) -> String {
    let format = if with_day {
        "%b %-d, %H:%M UTC"
    } else {
        "%H:%M UTC"
    };
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&chrono::Utc).format(format).to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// One latency per point, as a series; `None` where the point had no requests.
fn latency_series(
    points: &[MetricPoint],
    pick: fn(&MetricPoint) -> Option<f64>,
) -> Vec<Option<f64>> {
    points.iter().map(pick).collect()
}

/// The largest of a latency series, in words, for the chart's headline.
fn peak(label: &str, values: &[Option<f64>]) -> Option<String> {
    values
        .iter()
        .flatten()
        .copied()
        .reduce(f64::max)
        .map(|max| format!("{label} peak {}", milliseconds(max)))
}

/// The Monitor tab: the window, stage and route to show, the totals, four charts, and the
/// busiest stages and routes.
#[component]
pub fn MonitorPage() -> impl IntoView {
    let client = AdminClient::new();
    let api_id = current_api_id();
    let window = RwSignal::new("hour".to_owned());
    let stage = RwSignal::new(String::new());
    let route = RwSignal::new(String::new());
    // What the drop-downs offer: the API's stages, and its routes together with every
    // route key the series hold (a deleted route's traffic, requests that matched none).
    // Loaded once, so that a refresh of the charts never rebuilds a drop-down in use.
    let choices = Resource::new(|| (), {
        let (client, api_id) = (client.clone(), api_id.clone());
        move |_| {
            let (client, api_id) = (client.clone(), api_id.clone());
            async move {
                let base = format!("/v2/apis/{}", segment(&api_id));
                let stages = client
                    .get::<Page<Stage>>(&format!("{base}/stages"))
                    .await?
                    .items;
                let mut routes = client
                    .get::<Page<Route>>(&format!("{base}/routes?maxResults=500"))
                    .await?
                    .items;
                sort_routes(&mut routes);
                let mut keys: Vec<String> = routes.into_iter().map(|r| r.route_key).collect();
                // The longest window in the fewest points; the charts still work when
                // this fails, so it only adds to the list.
                let seen = client
                    .get::<ApiMetrics>(&format!(
                        "/portico/apis/{}/metrics?period=86400&window={MAX_METRICS_WINDOW_SECONDS}",
                        segment(&api_id)
                    ))
                    .await
                    .map(|m| m.routes)
                    .unwrap_or_default();
                let known: BTreeSet<String> = keys.iter().cloned().collect();
                let unlisted: BTreeSet<String> = seen
                    .into_iter()
                    .map(|r| r.route_key)
                    .filter(|k| !known.contains(k))
                    .collect();
                keys.extend(unlisted);
                let stage_names = stages.into_iter().map(|s| s.stage_name).collect::<Vec<_>>();
                Ok::<_, ApiFailure>((stage_names, keys))
            }
        }
    });
    // Nodes report every 5 seconds; asking every 2 shows a request within ~7.
    let tick = live_tick();
    let metrics = Resource::new(
        move || (tick.get(), window.get(), stage.get(), route.get()),
        move |(_, window, stage, route)| {
            let path = metrics_path(
                &api_id,
                Window::from_choice(&window),
                &stage,
                route_filter(&route),
            );
            let client = client.clone();
            async move { client.get::<ApiMetrics>(&path).await }
        },
    );
    // The filters are never refused; SelectField wants somewhere to show messages.
    let no_errors = FormErrors::new(&[]);
    view! {
        <section class="card monitor-controls">
            <div class="filters">
                <SelectField
                    id="monitor-window"
                    label="Time range"
                    field="window"
                    value=window
                    errors=no_errors
                    options=vec![
                        ("hour".to_owned(), "Last hour (1-minute points)".to_owned()),
                        ("day".to_owned(), "Last day (15-minute points)".to_owned()),
                    ]
                />
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let (stages, route_keys) = match choices.await {
                            Ok(c) => c,
                            Err(e) => return view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                        };
                        let stage_options = std::iter::once((String::new(), "All stages".to_owned()))
                            .chain(stages.into_iter().map(|s| (s.clone(), s)))
                            .collect::<Vec<_>>();
                        let route_options = std::iter::once((String::new(), "All routes".to_owned()))
                            .chain(route_keys.into_iter().map(|k| (format!("{ROUTE_CHOICE}{k}"), route_label(&k))))
                            .collect::<Vec<_>>();
                        view! {
                            <SelectField id="monitor-stage" label="Stage" field="stage" value=stage errors=no_errors options=stage_options/>
                            <SelectField id="monitor-route" label="Route" field="route" value=route errors=no_errors options=route_options/>
                        }
                            .into_any()
                    })}
                </Transition>
            </div>
            <p class="hint">"Refreshes every 2 seconds; nodes report their counts every 5. Times are UTC."</p>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match metrics.await {
                    Ok(m) => metrics_view(m).into_any(),
                    Err(e) => view! { <ErrorBanner failure=Some(e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The totals, the charts and the table of one answer of the metrics endpoint.
fn metrics_view(m: ApiMetrics) -> impl IntoView {
    // Read from the answer, not the drop-down, which may already have moved on.
    let with_day = m.period > 60;
    let (start, end) = (axis_time(&m.start, with_day), axis_time(&m.end, with_day));
    let points = &m.points;
    let counts = |pick: fn(&MetricPoint) -> u64| -> Vec<Option<f64>> {
        points.iter().map(|p| Some(pick(p) as f64)).collect()
    };
    let latency_p50 = latency_series(points, |p| p.latency_p50);
    let latency_p99 = latency_series(points, |p| p.latency_p99);
    let integration_p50 = latency_series(points, |p| p.integration_latency_p50);
    let integration_p99 = latency_series(points, |p| p.integration_latency_p99);
    let latency_summary =
        peak("p99", &latency_p99).unwrap_or_else(|| "No requests in this window".into());
    let integration_summary = peak("p99", &integration_p99)
        .unwrap_or_else(|| "No integration calls in this window".into());
    let t = &m.totals;
    let total_latency = |v: Option<f64>| v.map(milliseconds).unwrap_or_else(|| "—".into());
    let quiet = (t.count == 0).then(|| {
        view! {
            <p class="empty">
                "No requests in this window yet. Call the API: counts appear within a few seconds."
            </p>
        }
    });
    let rows = m
        .routes
        .iter()
        .map(|r| {
            view! {
                <tr data-stage=r.stage.clone() data-route=r.route_key.clone()>
                    <td class="stage-name">{r.stage.clone()}</td>
                    <td class="mono route-key">{route_label(&r.route_key)}</td>
                    <td class="count">{r.totals.count}</td>
                    <td class="client-errors">{r.totals.client_errors}</td>
                    <td class="server-errors">{r.totals.server_errors}</td>
                    <td class="p99">{total_latency(r.totals.latency_p99)}</td>
                </tr>
            }
        })
        .collect_view();
    let no_routes = m.routes.is_empty();
    view! {
        <section class="card">
            <h2>"Totals"</h2>
            {quiet}
            <dl class="totals-strip">
                <div><dt>"Requests"</dt><dd data-total="count">{t.count}</dd></div>
                <div><dt>"4xx"</dt><dd data-total="4xx">{t.client_errors}</dd></div>
                <div><dt>"5xx"</dt><dd data-total="5xx">{t.server_errors}</dd></div>
                <div><dt>"Throttled (429)"</dt><dd data-total="throttled">{t.throttled}</dd></div>
                <div><dt>"Unauthorized (401/403)"</dt><dd data-total="unauthorized">{t.unauthorized}</dd></div>
                <div><dt>"Latency p50 / p99"</dt><dd data-total="latency">{format!("{} / {}", total_latency(t.latency_p50), total_latency(t.latency_p99))}</dd></div>
            </dl>
        </section>
        <section class="card charts">
            <LineChart
                chart="count"
                title="Requests"
                series=vec![Series { key: "count", label: "Requests", values: counts(|p| p.count) }]
                summary=format!("{} in total", t.count)
                start=start.clone()
                end=end.clone()
            />
            <LineChart
                chart="errors"
                title="4xx and 5xx"
                series=vec![
                    Series { key: "4xx", label: "4xx", values: counts(|p| p.client_errors) },
                    Series { key: "5xx", label: "5xx", values: counts(|p| p.server_errors) },
                ]
                summary=format!("{} 4xx, {} 5xx in total", t.client_errors, t.server_errors)
                start=start.clone()
                end=end.clone()
            />
            <LineChart
                chart="latency"
                title="Latency"
                unit="ms"
                series=vec![
                    Series { key: "p50", label: "p50", values: latency_p50 },
                    Series { key: "p99", label: "p99", values: latency_p99 },
                ]
                summary=latency_summary
                start=start.clone()
                end=end.clone()
            />
            <LineChart
                chart="integration-latency"
                title="Integration latency"
                unit="ms"
                series=vec![
                    Series { key: "p50", label: "p50", values: integration_p50 },
                    Series { key: "p99", label: "p99", values: integration_p99 },
                ]
                summary=integration_summary
                start
                end
            />
        </section>
        <section class="card">
            <h2>"By stage and route"</h2>
            {no_routes.then(|| view! { <p class="empty">"No traffic in this window."</p> })}
            <div class="table-wrap route-totals" class:hidden=no_routes>
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Stage"</th>
                            <th scope="col">"Route"</th>
                            <th scope="col">"Requests"</th>
                            <th scope="col">"4xx"</th>
                            <th scope="col">"5xx"</th>
                            <th scope="col">"Latency p99"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_names_the_window_and_only_the_filters_chosen() {
        assert_eq!(
            metrics_path("a1", Window::LastHour, "", None),
            "/portico/apis/a1/metrics?period=60&window=3600"
        );
        assert_eq!(
            metrics_path("a1", Window::LastDay, "$default", Some("GET /items/{id}")),
            "/portico/apis/a1/metrics?period=900&window=86400&stage=%24default&route=GET%20%2Fitems%2F%7Bid%7D"
        );
        // Requests that matched no route are asked for by the empty key.
        assert_eq!(
            metrics_path("a1", Window::LastHour, "dev", route_filter("route:")),
            "/portico/apis/a1/metrics?period=60&window=3600&stage=dev&route="
        );
        assert_eq!(route_filter(""), None);
    }

    #[test]
    fn times_and_latencies_read_as_people_say_them() {
        assert_eq!(axis_time("2026-12-01T10:05:00Z", false), "10:05 UTC");
        assert_eq!(axis_time("2026-12-01T10:05:00Z", true), "Dec 1, 10:05 UTC");
        assert_eq!(axis_time("soon", false), "soon");
        assert_eq!(milliseconds(1.75), "1.8 ms");
        assert_eq!(milliseconds(250.0), "250 ms");
        assert_eq!(route_label(""), "(no route)");
        assert_eq!(
            peak("p99", &[None, Some(3.0), Some(12.0)]).as_deref(),
            Some("p99 peak 12 ms")
        );
        assert_eq!(peak("p99", &[None]), None);
    }
}
