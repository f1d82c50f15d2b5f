//! Serves the browser console (`portico-web-ui`) beside the admin REST API on the admin
//! address: its pages rendered on the server, and the wasm, JS and CSS that hydrate them
//! from the built site directory. The console reads and writes only through the admin
//! API's router, which it is handed here.
//!
//! Before any page renders, `console_gate` sends a visitor without a session to the login
//! page (a real 302, so nothing of the page reaches the browser) and removes trailing
//! slashes; every other path that is not the admin API's is a console page, so an unknown
//! one gets the console's own 404 page rather than the API's JSON.
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list, render_app_async_with_context};
use portico_web_ui::{AdminRouter, App, LOGIN_PATH, login_url, shell};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::admin::AdminState;
use crate::admin::auth::{SESSION_COOKIE, client_source, cookie, has_console_session};

/// The base name `scripts/build` (console-site) gives the JS and wasm files.
const OUTPUT_NAME: &str = "portico";

/// Where the built console is: the flag, else `site` beside the binary, else `../site`.
pub fn site_root(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let candidates = [beside.join("site"), beside.join("../site")];
    candidates
        .iter()
        .find(|dir| dir.join("pkg").is_dir())
        .cloned()
        .unwrap_or_else(|| candidates[1].clone())
}

/// Runs before every console page (not its assets, not the admin API).
async fn console_gate(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    if path.len() > 1 && path.ends_with('/') {
        return redirect(
            StatusCode::PERMANENT_REDIRECT,
            &format!("{}{query}", without_trailing_slash(&path)),
        );
    }
    if path == LOGIN_PATH {
        return next.run(request).await;
    }
    let session = cookie(&request, SESSION_COOKIE).map(str::to_string);
    match has_console_session(&state, session.as_deref(), client_source(&request)).await {
        Ok(true) => next.run(request).await,
        Ok(false) => redirect(StatusCode::FOUND, &login_url(&format!("{path}{query}"))),
        Err(e) => e.into_response(),
    }
}

/// `path` without its trailing slashes, and with one leading slash: `//host/` must not
/// become `//host`, which a browser reads as another site.
fn without_trailing_slash(path: &str) -> String {
    let inner = path.trim_start_matches(['/', '\\']).trim_end_matches('/');
    format!("/{inner}")
}

fn redirect(status: StatusCode, to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (status, [(header::LOCATION, location)]).into_response(),
        // Only reachable with a path that is not a valid header value, which hyper refuses
        // before it gets here.
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// `admin` plus the console's pages and assets. Paths the admin API does not know are
/// console pages from here on.
pub fn with_console(admin: Router, state: AdminState, site_root: &Path) -> Router {
    let script = site_root.join("pkg").join(format!("{OUTPUT_NAME}.js"));
    if script.is_file() {
        tracing::info!(site = %site_root.display(), "console: serving built assets");
    } else {
        tracing::warn!(
            missing = %script.display(),
            "console: assets not built; pages render but stay static. Run scripts/build \
             or point --console-dir at a built site"
        );
    }
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .build();
    // Pages call the admin API in-process, past the listener: ACM's `POST /` must be
    // moved to its path here too.
    let for_pages = AdminRouter(
        Router::new().fallback_service(
            tower::ServiceBuilder::new()
                .map_request(crate::admin::acm_on_root)
                .service(admin.clone()),
        ),
    );
    // File names carry no hash, so browsers must revalidate (ETag / Last-Modified) to
    // pick up a new build.
    let assets = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(ServeDir::new(site_root.join("pkg")).precompressed_gzip());
    let context = move || provide_context(for_pages.clone());
    let page = {
        let options = options.clone();
        move || shell(options.clone())
    };
    // Unknown paths render the app too, whose fallback is the console's 404 page.
    let unknown = render_app_async_with_context(context.clone(), page.clone());
    let pages = Router::new()
        .leptos_routes_with_context(&options, generate_route_list(App), context, page)
        .fallback(move |request: Request| unknown(request))
        .with_state(options)
        .layer(axum::middleware::from_fn_with_state(state, console_gate));
    admin
        .merge(Router::new().nest_service("/pkg", assets))
        .fallback_service(pages)
}

#[cfg(test)]
mod tests {
    use super::without_trailing_slash;

    #[test]
    fn trailing_slashes_go_and_no_path_becomes_another_site() {
        assert_eq!(without_trailing_slash("/apis/abc/"), "/apis/abc");
        assert_eq!(without_trailing_slash("/apis//"), "/apis");
        assert_eq!(without_trailing_slash("//evil.example/"), "/evil.example");
        assert_eq!(without_trailing_slash("/\\evil.example/"), "/evil.example");
        assert_eq!(without_trailing_slash("///"), "/");
    }
}
