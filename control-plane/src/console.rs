//! Serves the browser console (`portico-web-ui`) beside the admin REST API on the admin
//! address: its pages rendered on the server, and the wasm, JS and CSS that hydrate them
//! from the built site directory. The console reads and writes only through the admin
//! API's router, which it is handed here.
use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, header};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use portico_web_ui::{AdminRouter, App, shell};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The base name `scripts/build-console` gives the JS and wasm files.
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

/// `admin` plus the console's pages and assets.
pub fn with_console(admin: Router, site_root: &Path) -> Router {
    let script = site_root.join("pkg").join(format!("{OUTPUT_NAME}.js"));
    if script.is_file() {
        tracing::info!(site = %site_root.display(), "console: serving built assets");
    } else {
        tracing::warn!(
            missing = %script.display(),
            "console: assets not built; pages render but stay static. Run scripts/build-console \
             or point --console-dir at a built site"
        );
    }
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .build();
    let for_pages = AdminRouter(admin.clone());
    // File names carry no hash, so browsers must revalidate (ETag / Last-Modified) to
    // pick up a new build.
    let assets = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(ServeDir::new(site_root.join("pkg")).precompressed_gzip());
    let console = Router::new()
        .leptos_routes_with_context(
            &options,
            generate_route_list(App),
            move || provide_context(for_pages.clone()),
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .nest_service("/pkg", assets)
        .with_state(options);
    admin.merge(console)
}
