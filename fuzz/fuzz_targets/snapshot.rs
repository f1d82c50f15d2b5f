//! A pushed snapshot as a node receives it: protobuf bytes decoded into the snapshot
//! message, then compiled into what requests read. Whatever the bytes, the result is a
//! config or a reason to NACK, never a panic.
//!
//! Input: the snapshot message's bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portico_data_plane::{CompiledConfig, Runtime};
use portico_proto::Snapshot;
use prost::Message;

fuzz_target!(|bytes: &[u8]| {
    // One runtime for every input, as a node keeps one across swaps.
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(Runtime::default);
    let Ok(snapshot) = Snapshot::decode(bytes) else {
        return;
    };
    if let Ok(config) = CompiledConfig::compile(&snapshot, 1, "fuzz".into(), runtime) {
        let _ = config.problems();
        let _ = config.stats();
        for api in &snapshot.apis {
            let _ =
                config.target_for_host(&format!("{}.{}", api.api_id, snapshot.execute_api_domain));
        }
        for domain in &snapshot.domain_names {
            let _ = config.target_for_host(&domain.domain_name);
            let _ = config.domain_for_sni(&domain.domain_name);
        }
    }
});
