//! A line chart drawn as inline SVG, so the console needs no chart library and fetches
//! nothing: one or more series over the same points, a round y-axis maximum, and the
//! chart's headline number in words beside its title.
use leptos::prelude::*;

/// The drawing's own coordinates. The SVG is stretched to its box by CSS
/// (`preserveAspectRatio="none"`), and the lines keep their width through
/// `vector-effect`, so these only set the proportions.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// `data-series` on the line, and the CSS class that colours it (`series-{key}`).
    pub key: &'static str,
    /// The line's name in the legend.
    pub label: &'static str,
    /// A value per point, oldest first; `None` where there is nothing to draw (a latency
    /// in a minute without requests), which breaks the line.
    pub values: Vec<Option<f64>>,
}

/// The top of the y axis: the largest value rounded up to 1, 2 or 5 times a power of ten,
/// so the axis label is a round number; 1 when nothing is above zero, so a flat line of
/// zeros sits on the bottom.
pub fn axis_max(values: impl IntoIterator<Item = f64>) -> f64 {
    let largest = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    if largest <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(largest.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|top| *top >= largest)
        .unwrap_or(10.0 * magnitude)
}

/// SVG path data for `values` spread evenly from left to right over `width`, zero at the
/// bottom of `height` and `y_max` at its top (values beyond are held at the edge). A
/// missing value breaks the line; a point with no neighbour is drawn as a dot (a
/// zero-length segment, which round line caps show).
pub fn line_path(values: &[Option<f64>], y_max: f64, width: f64, height: f64) -> String {
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    let y_max = if y_max > 0.0 { y_max } else { 1.0 };
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut in_run = false;
    for (i, value) in values.iter().enumerate() {
        let Some(v) = value.filter(|v| v.is_finite()) else {
            in_run = false;
            continue;
        };
        let x = if values.len() > 1 {
            i as f64 * step
        } else {
            width / 2.0
        };
        let y = height - (v.clamp(0.0, y_max) / y_max) * height;
        if !in_run {
            runs.push(Vec::new());
            in_run = true;
        }
        if let Some(run) = runs.last_mut() {
            run.push((x, y));
        }
    }
    runs.iter()
        .map(|run| {
            let mut d = run
                .iter()
                .enumerate()
                .map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" }))
                .collect::<Vec<_>>()
                .join(" ");
            if run.len() == 1 {
                d.push_str(" h0");
            }
            d
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value on the y axis: whole numbers as they are, fractions with what they need.
fn axis_label(value: f64, unit: &str) -> String {
    let number = if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    };
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

/// A chart of `series` over the same points, with its title, `summary` (its total or
/// peak, in words), the y axis from 0 to a round maximum, and `start`/`end` under the x
/// axis. `chart` is the `data-chart` hook on the SVG.
#[component]
pub fn LineChart(
    chart: &'static str,
    title: &'static str,
    /// The values' unit on the y axis (`ms`); none for counts.
    #[prop(optional)]
    unit: &'static str,
    series: Vec<Series>,
    #[prop(into)] summary: String,
    #[prop(into)] start: String,
    #[prop(into)] end: String,
) -> impl IntoView {
    let y_max = axis_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied()),
    );
    let points = series.first().map_or(0, |s| s.values.len());
    let described = format!("{title}: {summary}");
    let legend = (series.len() > 1).then(|| {
        series
            .iter()
            .map(|s| {
                view! {
                    <li class=format!("series-{}", s.key)>
                        <span class="swatch" aria-hidden="true"></span>
                        {s.label}
                    </li>
                }
            })
            .collect_view()
    });
    let lines = series
        .iter()
        .map(|s| {
            view! {
                <path
                    class=format!("line series-{}", s.key)
                    data-series=s.key
                    d=line_path(&s.values, y_max, WIDTH, HEIGHT)
                    vector-effect="non-scaling-stroke"
                ></path>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <figcaption>
                <span class="chart-title">{title}</span>
                <span class="chart-summary">{summary}</span>
            </figcaption>
            <div class="chart-body">
                <div class="chart-y" aria-hidden="true">
                    <span class="y-max">{axis_label(y_max, unit)}</span>
                    <span class="y-min">"0"</span>
                </div>
                <svg
                    data-chart=chart
                    data-points=points.to_string()
                    viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                    preserveAspectRatio="none"
                    role="img"
                    aria-label=described
                >
                    <line class="grid" x1="0" y1="0.5" x2=WIDTH.to_string() y2="0.5" vector-effect="non-scaling-stroke"></line>
                    <line class="grid" x1="0" y1=(HEIGHT / 2.0).to_string() x2=WIDTH.to_string() y2=(HEIGHT / 2.0).to_string() vector-effect="non-scaling-stroke"></line>
                    <line class="axis" x1="0" y1=(HEIGHT - 0.5).to_string() x2=WIDTH.to_string() y2=(HEIGHT - 0.5).to_string() vector-effect="non-scaling-stroke"></line>
                    {lines}
                </svg>
            </div>
            <div class="chart-x" aria-hidden="true">
                <span>{start}</span>
                <span>{end}</span>
            </div>
            {legend.map(|items| view! { <ul class="chart-legend">{items}</ul> })}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_tops_out_at_a_round_number() {
        assert_eq!(axis_max([]), 1.0);
        assert_eq!(axis_max([0.0, 0.0]), 1.0);
        assert_eq!(axis_max([0.3]), 0.5);
        assert_eq!(axis_max([1.0]), 1.0);
        assert_eq!(axis_max([3.0, 7.0]), 10.0);
        assert_eq!(axis_max([12.0]), 20.0);
        assert_eq!(axis_max([250.0]), 500.0);
        assert_eq!(axis_max([501.0, f64::NAN]), 1000.0);
    }

    #[test]
    fn lines_span_the_width_with_zero_at_the_bottom() {
        let d = line_path(&[Some(0.0), Some(5.0), Some(10.0)], 10.0, 100.0, 50.0);
        assert_eq!(d, "M0.0,50.0 L50.0,25.0 L100.0,0.0");
        // Beyond the top is held at the top.
        let d = line_path(&[Some(20.0), Some(0.0)], 10.0, 100.0, 50.0);
        assert_eq!(d, "M0.0,0.0 L100.0,50.0");
    }

    #[test]
    fn missing_values_break_the_line_and_lone_points_are_dots() {
        let d = line_path(
            &[Some(1.0), Some(1.0), None, Some(2.0), None],
            2.0,
            40.0,
            10.0,
        );
        assert_eq!(d, "M0.0,5.0 L10.0,5.0 M30.0,0.0 h0");
        assert_eq!(line_path(&[None, None], 1.0, 40.0, 10.0), "");
        assert_eq!(line_path(&[], 1.0, 40.0, 10.0), "");
        // One point sits in the middle.
        assert_eq!(line_path(&[Some(0.0)], 1.0, 40.0, 10.0), "M20.0,10.0 h0");
    }
}
