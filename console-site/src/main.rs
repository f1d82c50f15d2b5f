//! `console-site WASM OUT_DIR`: writes the console's JS glue and its processed wasm
//! (`portico.js`, `portico_bg.wasm`) into `OUT_DIR`, as `wasm-bindgen --target web
//! --no-typescript --out-name portico` would. `scripts/build` runs it after
//! compiling web-ui for wasm32, then adds the styles and the gzipped copies.
use std::path::PathBuf;
use std::process::ExitCode;

use wasm_bindgen_cli_support::Bindgen;

/// The base name the control plane's console expects (`console::OUTPUT_NAME`).
const OUTPUT_NAME: &str = "portico";

#[derive(Debug, thiserror::Error)]
enum SiteError {
    #[error("usage: console-site WASM OUT_DIR")]
    Usage,
    #[error("{wasm}: no such file; build web-ui for wasm32-unknown-unknown first")]
    MissingWasm { wasm: String },
    #[error("wasm-bindgen on {wasm}: {cause:#}")]
    Bindgen { wasm: String, cause: anyhow::Error },
}

fn run() -> Result<(), SiteError> {
    let mut args = std::env::args_os().skip(1);
    let (Some(wasm), Some(out_dir), None) = (args.next(), args.next(), args.next()) else {
        return Err(SiteError::Usage);
    };
    let (wasm, out_dir) = (PathBuf::from(wasm), PathBuf::from(out_dir));
    let shown = wasm.display().to_string();
    if !wasm.is_file() {
        return Err(SiteError::MissingWasm { wasm: shown });
    }
    let bindgen_failed = |cause| SiteError::Bindgen {
        wasm: shown.clone(),
        cause,
    };
    let mut bindgen = Bindgen::new();
    bindgen.web(true).map_err(bindgen_failed)?;
    bindgen
        .input_path(&wasm)
        .out_name(OUTPUT_NAME)
        .typescript(false)
        .generate(&out_dir)
        .map_err(bindgen_failed)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("console-site: {e}");
            ExitCode::FAILURE
        }
    }
}
