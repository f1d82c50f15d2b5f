use leptos::prelude::*;

/// A moment as people say it ("3 min ago"), with the exact RFC 3339 time on hover and in
/// `datetime`. Unparseable input is shown as it is.
#[component]
pub fn RelativeTime(at: String) -> impl IntoView {
    let said = chrono::DateTime::parse_from_rfc3339(&at)
        .map(|t| ago(chrono::Utc::now().signed_duration_since(t)))
        .unwrap_or_else(|_| at.clone());
    view! { <time datetime=at.clone() title=at>{said}</time> }
}

fn ago(d: chrono::TimeDelta) -> String {
    let s = d.num_seconds();
    match s {
        ..=9 => "just now".into(),
        10..=59 => format!("{s} s ago"),
        60..=3_599 => format!("{} min ago", s / 60),
        3_600..=86_399 => format!("{} h ago", s / 3_600),
        _ => match s / 86_400 {
            1 => "yesterday".into(),
            days => format!("{days} days ago"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn durations_read_as_people_say_them() {
        let s = chrono::TimeDelta::seconds;
        assert_eq!(ago(s(-5)), "just now");
        assert_eq!(ago(s(42)), "42 s ago");
        assert_eq!(ago(s(125)), "2 min ago");
        assert_eq!(ago(s(7_300)), "2 h ago");
        assert_eq!(ago(s(90_000)), "yesterday");
        assert_eq!(ago(s(3 * 86_400)), "3 days ago");
    }
}
