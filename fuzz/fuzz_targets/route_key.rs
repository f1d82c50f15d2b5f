//! Route keys as an admin writes them (`GET /pets/{id}`, `ANY /{proxy+}`, `$default`),
//! then the route table they compile into, asked for a request path as a client sends it.
//!
//! Input: one route key per line; the last line is the request, `METHOD /path`.
#![no_main]

use http::Method;
use libfuzzer_sys::fuzz_target;
use portico_data_plane::config::route_table::{RouteEntry, RouteTable};
use portico_model::{RouteKey, Segment};

fuzz_target!(|input: &str| {
    let mut lines: Vec<&str> = input.split('\n').collect();
    let request = lines.pop().unwrap_or_default();
    let mut table = RouteTable::default();
    for (i, line) in lines.iter().enumerate() {
        let Ok(key) = RouteKey::parse(line) else {
            continue;
        };
        // What the admin API stores is the key as parsed, printed: it must read back
        // as the same key.
        let shown = key.to_string();
        assert_eq!(RouteKey::parse(&shown).ok().as_ref(), Some(&key), "{shown}");
        if let RouteKey::Route { path, .. } = &key {
            let _ = path.shape();
            let _ = path.params().count();
        }
        let _ = table.insert(RouteEntry {
            route_id: i.to_string(),
            key,
            integration: None,
            auth: Default::default(),
            index: 0,
        });
    }
    let (method, path) = request.split_once(' ').unwrap_or(("GET", request));
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return;
    };
    if let Some(found) = table.lookup(&method, path) {
        // Every parameter the chosen route names has a value from this path.
        if let RouteKey::Route { path: route, .. } = &found.route.key {
            let named = route
                .segments
                .iter()
                .filter(|s| !matches!(s, Segment::Literal(_)))
                .count();
            assert_eq!(found.params().count(), named, "{request}");
            for (_, value) in found.params() {
                assert!(path.contains(value));
            }
        }
    }
});
