//! How long a node takes to turn a pushed snapshot into the config it serves: decode
//! the protobuf, check its content hash, compile host, stage and route tables. Run with
//! `cargo bench -p portico-data-plane --bench snapshot_compile`; `bench/run` reports it.
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use portico_data_plane::CompiledConfig;
use portico_proto::{
    Api, ConfigPush, Deployment, Integration, IntegrationType, Route, Snapshot, Stage,
};
use prost::Message;

/// One API, one stage, `routes` routes `GET /r{i}/{id}` to one integration: the route
/// table of a large API.
fn snapshot(routes: usize) -> Snapshot {
    Snapshot {
        execute_api_domain: "execute-api.localhost".into(),
        apis: vec![Api {
            api_id: "bench00001".into(),
            name: "bench".into(),
            disable_execute_api_endpoint: false,
        }],
        deployments: vec![Deployment {
            api_id: "bench00001".into(),
            deployment_id: "d1".into(),
            routes: (0..routes)
                .map(|i| Route {
                    route_id: format!("r{i:06}"),
                    route_key: format!("GET /r{i}/{{id}}"),
                    integration_id: "i1".into(),
                    ..Default::default()
                })
                .collect(),
            integrations: vec![Integration {
                integration_id: "i1".into(),
                integration_type: IntegrationType::HttpProxy as i32,
                uri: "http://${stageVariables.backend}/items/{id}".into(),
                method: "ANY".into(),
                timeout_millis: 30_000,
                payload_format_version: "1.0".into(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        stages: vec![Stage {
            api_id: "bench00001".into(),
            stage_name: "bench".into(),
            deployment_id: "d1".into(),
            stage_variables: [("backend".to_string(), "127.0.0.1:8080".to_string())].into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("snapshot_compile");
    group.sample_size(20);
    for routes in [1usize, 1_000, 10_000] {
        let s = snapshot(routes);
        let push = ConfigPush::full(1, "n", &portico_proto::EncodedSnapshot::encode(&s));
        let bytes = push.encode_to_vec();
        group.bench_with_input(BenchmarkId::from_parameter(routes), &bytes, |b, bytes| {
            b.iter(|| {
                let push = ConfigPush::decode(bytes.as_slice()).expect("decode");
                let encoded = push.snapshot.clone().expect("snapshot");
                assert_eq!(portico_proto::hash_of(&encoded), push.content_hash);
                let snapshot = portico_proto::Snapshot::decode(encoded).expect("snapshot");
                CompiledConfig::compile(
                    &snapshot,
                    push.version,
                    push.content_hash.clone(),
                    &portico_data_plane::Runtime::default(),
                )
                .expect("compiles")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
