//! `portico-proxy`: one Portico proxy node, until Ctrl-C or SIGTERM.

use clap::Parser;
use portico_data_plane::{NodeArgs, run_node};
use tracing_subscriber::EnvFilter;

#[derive(Parser, Debug)]
#[command(
    name = "portico-proxy",
    version,
    about = "Portico proxy node: serves API traffic with the config a control plane streams to it"
)]
struct Cli {
    #[command(flatten)]
    node: NodeArgs,
}

// mimalloc: the proxy allocates small, short-lived buffers on every request, where it is
// measurably faster than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // mimalloc asks for transparent huge pages on its arenas (MADV_HUGEPAGE), so the
    // first byte a thread touches in one costs 2 MB: an idle node held 18 MB of them
    // for a heap of a few. With huge pages off for the process, the node's memory is
    // what it uses; throughput did not move (see BENCHMARKS.md).
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("portico-proxy: cannot turn transparent huge pages off: {e}");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    // Colour only for a person at a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    run_node(cli.node, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
