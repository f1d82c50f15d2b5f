//! Portico's browser console. The control plane renders these pages on the server
//! (`ssr`) and the browser hydrates them (`hydrate`, built to wasm), so the first load is
//! plain HTML and every later click updates in place. The console owns no data and no
//! rules: every read and write goes through the admin REST API — over `fetch` in the
//! browser, in-process through the same axum router on the server — so the console, boto3
//! and the AWS CLI always see the same resources, checks and error messages.
#![recursion_limit = "256"]

pub mod app;
pub mod client;
mod components;
pub mod login_redirect;
mod pages;

pub use app::{App, shell};
pub use login_redirect::{LOGIN_PATH, login_url};

#[cfg(feature = "ssr")]
pub use client::AdminRouter;

/// The browser's entry point, called by the script `HydrationScripts` writes.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
