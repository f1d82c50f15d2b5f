//! Where a visitor without a session is sent, and where login sends them back: one place
//! for the `next=` rules the control plane's redirect and the login page must agree on.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The login page; the control plane sends visitors without a session here, with the page
/// they asked for in `next`.
pub const LOGIN_PATH: &str = "/login";

/// What `next=` leaves readable: a path keeps its slashes.
const NEXT_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The login page, asked to come back to `path_and_query` afterwards.
pub fn login_url(path_and_query: &str) -> String {
    if path_and_query == "/" {
        return LOGIN_PATH.to_string();
    }
    format!(
        "{LOGIN_PATH}?next={}",
        utf8_percent_encode(path_and_query, NEXT_ENCODE)
    )
}

/// Where login goes on to: `next` when it is a path of this console (never another site:
/// `//host` and `/\host` are absolute URLs to a browser), else the API list.
pub fn after_login(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/apis".to_string(),
    }
}
