//! Route keys as an admin writes them (`GET /pets/{id}`, `ANY /{proxy+}`, `$default`),
//! then the route table they compile into, asked for a request path as a client sends it
//! and checked against AWS's precedence worked out route by route.
//!
//! Input: one route key per line; the last line is the request, `METHOD /path`.
#![no_main]

use http::Method;
use libfuzzer_sys::fuzz_target;
use portico_data_plane::config::route_table::{RouteEntry, RouteTable};
use portico_model::{HttpMethod, RouteKey, RouteMethod, Segment};

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
    let found = table.lookup(&method, path);
    assert_eq!(
        found.map(|f| f.route.route_id.as_str()),
        most_specific(table.entries(), &method, path),
        "{input:?}"
    );
    if let Some(found) = found {
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

/// AWS's precedence without the trie: of the routes whose path matches, the one with
/// the most specific segments, left to right (a literal beats `{param}`, which beats
/// `{proxy+}`), and for the same path the request's method before `ANY`; else
/// `$default`.
fn most_specific<'t>(routes: &'t [RouteEntry], method: &Method, path: &str) -> Option<&'t str> {
    let wanted = HttpMethod::from_http(method);
    let mut best: Option<(Vec<u8>, bool, &str)> = None;
    let mut default = None;
    for r in routes {
        let (m, segments) = match &r.key {
            RouteKey::Default => {
                default = Some(r.route_id.as_str());
                continue;
            }
            RouteKey::Route { method, path } => (method, &path.segments),
        };
        let any = match m {
            RouteMethod::Any => true,
            RouteMethod::Method(m) if Some(*m) == wanted => false,
            RouteMethod::Method(_) => continue,
        };
        let Some(rank) = matches(segments, path) else {
            continue;
        };
        let better = match &best {
            None => true,
            Some((best_rank, best_any, _)) => (&rank, any) < (best_rank, *best_any),
        };
        if better {
            best = Some((rank, any, r.route_id.as_str()));
        }
    }
    best.map(|(_, _, id)| id).or(default)
}

/// The route's segment kinds (0 literal, 1 param, 2 greedy) when its path matches.
fn matches(segments: &[Segment], path: &str) -> Option<Vec<u8>> {
    let mut rest = if path == "/" { "" } else { path };
    let mut rank = Vec::new();
    for segment in segments {
        let after = rest.strip_prefix('/')?;
        let (value, tail) = after.split_at(after.find('/').unwrap_or(after.len()));
        match segment {
            Segment::Literal(l) if l == value => rank.push(0),
            Segment::Param(_) if !value.is_empty() => rank.push(1),
            Segment::Greedy(_) if !after.is_empty() => {
                rank.push(2);
                return Some(rank);
            }
            _ => return None,
        }
        rest = tail;
    }
    rest.is_empty().then_some(rank)
}
