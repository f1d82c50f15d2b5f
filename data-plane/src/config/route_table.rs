//! One deployment's routes, compiled into a segment trie that answers "which route serves
//! `METHOD /path`" with AWS HTTP API precedence.
//!
//! AWS picks the most specific path, segment by segment: a literal segment beats a
//! `{param}`, which beats a greedy `{proxy+}`. For the same path a route naming the
//! request's method beats `ANY`; a path that has no route for the request's method does
//! not match at all, so the search falls through to less specific paths. `$default`
//! catches whatever nothing else matched.
//!
//! Why not `matchit`: matchit 0.8 refuses a `{param}` and a catch-all at the same
//! position (`/pets/{id}` beside `/pets/{proxy+}`), which is the most common AWS layout.
//! The trie below is small, backtracks depth-first in precedence order (so each node is
//! visited at most once per lookup) and never allocates while matching: parameters are
//! read back from the route's own segments once a route has been chosen.

use foldhash::HashMap;

use http::Method;
use portico_model::{HttpMethod, RouteKey, RouteMethod, RoutePath, Segment};

/// Index of a route inside its table.
type RouteIdx = usize;

/// A route as the request path sees it.
#[derive(Debug)]
pub struct RouteEntry {
    pub route_id: String,
    pub key: RouteKey,
    /// Index of the route's integration in the deployment's integration list; `None` when
    /// the route has no target (AWS answers 404 then).
    pub integration: Option<usize>,
    /// How the route is guarded.
    pub auth: super::authorizers::RouteAuth,
    /// The route's place in its table, for what stages keep per route (throttle
    /// limits); set by [`RouteTable::insert`].
    pub index: usize,
}

/// Two routes that would serve exactly the same requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route key '{key}' duplicates route {other_route_id}")]
pub struct DuplicateRoute {
    pub key: String,
    pub other_route_id: String,
}

/// A compiled set of routes; built once per deployment and shared by its stages.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<RouteEntry>,
    root: Node,
    default_route: Option<RouteIdx>,
}

#[derive(Debug, Default)]
struct Node {
    /// Routes whose path ends at this node.
    here: MethodSlots,
    literals: HashMap<Box<str>, Node>,
    param: Option<Box<Node>>,
    /// Greedy parameters are always the last segment, so they only need slots.
    greedy: Option<Box<MethodSlots>>,
}

#[derive(Debug, Default)]
struct MethodSlots {
    by_method: [Option<RouteIdx>; HttpMethod::ALL.len()],
    any: Option<RouteIdx>,
}

impl MethodSlots {
    fn get(&self, method: Option<usize>) -> Option<RouteIdx> {
        method.and_then(|m| self.by_method[m]).or(self.any)
    }

    fn slot(&mut self, method: RouteMethod) -> &mut Option<RouteIdx> {
        match method {
            RouteMethod::Any => &mut self.any,
            RouteMethod::Method(m) => &mut self.by_method[http_method_index(m)],
        }
    }
}

fn http_method_index(m: HttpMethod) -> usize {
    match m {
        HttpMethod::Get => 0,
        HttpMethod::Post => 1,
        HttpMethod::Put => 2,
        HttpMethod::Patch => 3,
        HttpMethod::Delete => 4,
        HttpMethod::Head => 5,
        HttpMethod::Options => 6,
    }
}

/// The slot index of a request method; methods no route key can name (TRACE, custom
/// ones) only ever match `ANY`.
fn request_method_index(m: &Method) -> Option<usize> {
    HttpMethod::from_http(m).map(http_method_index)
}

impl RouteTable {
    /// Adds a route. Fails when another route already has the same method (or both are
    /// `ANY`) and the same path shape, or when both are `$default`.
    pub fn insert(&mut self, mut entry: RouteEntry) -> Result<(), DuplicateRoute> {
        let idx = self.routes.len();
        entry.index = idx;
        let slot = match &entry.key {
            RouteKey::Default => &mut self.default_route,
            RouteKey::Route { method, path } => {
                let mut node = &mut self.root;
                let mut greedy = None;
                for seg in &path.segments {
                    node = match seg {
                        Segment::Literal(l) => node.literals.entry(l.as_str().into()).or_default(),
                        Segment::Param(_) => node.param.get_or_insert_with(Default::default),
                        Segment::Greedy(_) => {
                            greedy = Some(node.greedy.get_or_insert_with(Default::default));
                            break;
                        }
                    };
                }
                match greedy {
                    Some(slots) => slots.slot(*method),
                    None => node.here.slot(*method),
                }
            }
        };
        if let Some(other) = *slot {
            return Err(DuplicateRoute {
                key: entry.key.to_string(),
                other_route_id: self.routes[other].route_id.clone(),
            });
        }
        *slot = Some(idx);
        self.routes.push(entry);
        Ok(())
    }

    /// Every route, in [`RouteEntry::index`] order.
    pub fn entries(&self) -> &[RouteEntry] {
        &self.routes
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Finds the route for a request. `path` is the raw (still percent-encoded) path
    /// after any stage prefix, starting with `/`.
    pub fn lookup<'t, 'p>(&'t self, method: &Method, path: &'p str) -> Option<RouteMatch<'t, 'p>> {
        let method = request_method_index(method);
        // "/" has no segments; everything else is a sequence of "/segment".
        let rest = if path == "/" { "" } else { path };
        let idx = if rest.is_empty() || rest.starts_with('/') {
            find(&self.root, rest, method)
        } else {
            None
        };
        let (idx, path) = match idx {
            Some(idx) => (idx, rest),
            None => (self.default_route?, ""),
        };
        let route = self.routes.get(idx)?;
        Some(RouteMatch { route, path })
    }
}

/// Depth-first in precedence order: literal, then `{param}`, then greedy. `rest` is
/// empty or starts with '/'.
fn find(node: &Node, rest: &str, method: Option<usize>) -> Option<RouteIdx> {
    let Some(after) = rest.strip_prefix('/') else {
        return node.here.get(method);
    };
    let (segment, tail) = match after.find('/') {
        Some(i) => after.split_at(i),
        None => (after, ""),
    };
    if let Some(child) = node.literals.get(segment)
        && let Some(found) = find(child, tail, method)
    {
        return Some(found);
    }
    if !segment.is_empty()
        && let Some(child) = &node.param
        && let Some(found) = find(child, tail, method)
    {
        return Some(found);
    }
    if !after.is_empty()
        && let Some(slots) = &node.greedy
    {
        return slots.get(method);
    }
    None
}

/// The route chosen for a request, with the request path it matched.
#[derive(Debug, Clone, Copy)]
pub struct RouteMatch<'t, 'p> {
    pub route: &'t RouteEntry,
    path: &'p str,
}

impl<'t, 'p> RouteMatch<'t, 'p> {
    /// The route's path parameters and their raw values, in path order. A greedy
    /// parameter's value is the rest of the path, slashes included.
    pub fn params(&self) -> Params<'t, 'p> {
        let segments: &'t [Segment] = match &self.route.key {
            RouteKey::Route {
                path: RoutePath { segments },
                ..
            } => segments,
            RouteKey::Default => &[],
        };
        Params {
            segments: segments.iter(),
            rest: self.path,
        }
    }

    pub fn param(&self, name: &str) -> Option<&'p str> {
        self.params().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// Walks the chosen route's segments beside the request path; the trie only chose the
/// route if the two line up, so this just reads the values back.
#[derive(Debug, Clone)]
pub struct Params<'t, 'p> {
    segments: std::slice::Iter<'t, Segment>,
    rest: &'p str,
}

impl<'t, 'p> Iterator for Params<'t, 'p> {
    type Item = (&'t str, &'p str);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let segment = self.segments.next()?;
            let after = self.rest.strip_prefix('/')?;
            let (value, tail) = match after.find('/') {
                Some(i) => after.split_at(i),
                None => (after, ""),
            };
            match segment {
                Segment::Literal(_) => self.rest = tail,
                Segment::Param(name) => {
                    self.rest = tail;
                    return Some((name, value));
                }
                Segment::Greedy(name) => {
                    self.rest = "";
                    return Some((name, after));
                }
            }
        }
    }
}

/// Builds a table, failing on the first route that duplicates an earlier one.
pub fn build(entries: impl IntoIterator<Item = RouteEntry>) -> Result<RouteTable, DuplicateRoute> {
    let mut table = RouteTable::default();
    for entry in entries {
        table.insert(entry)?;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(keys: &[&str]) -> RouteTable {
        build(keys.iter().map(|k| RouteEntry {
            route_id: (*k).to_string(),
            key: RouteKey::parse(k).unwrap_or_else(|e| panic!("{k}: {e}")),
            integration: None,
            auth: Default::default(),
            index: 0,
        }))
        .expect("no duplicates")
    }

    /// (routes, method, path, expected route key or None, expected params)
    type Case = (
        &'static [&'static str],
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static [(&'static str, &'static str)],
    );

    #[test]
    fn precedence_follows_aws() {
        let pets: &[&str] = &[
            "GET /pets/dog/1",
            "GET /pets/dog/{id}",
            "GET /pets/{proxy+}",
            "ANY /{proxy+}",
            "$default",
        ];
        let cases: &[Case] = &[
            // The example from the AWS docs.
            (pets, "GET", "/pets/dog/1", Some("GET /pets/dog/1"), &[]),
            (
                pets,
                "GET",
                "/pets/dog/2",
                Some("GET /pets/dog/{id}"),
                &[("id", "2")],
            ),
            (
                pets,
                "GET",
                "/pets/cat",
                Some("GET /pets/{proxy+}"),
                &[("proxy", "cat")],
            ),
            (
                pets,
                "GET",
                "/pets/dog/1/x",
                Some("GET /pets/{proxy+}"),
                &[("proxy", "dog/1/x")],
            ),
            (
                pets,
                "POST",
                "/pets/dog/1",
                Some("ANY /{proxy+}"),
                &[("proxy", "pets/dog/1")],
            ),
            (pets, "GET", "/", Some("$default"), &[]),
            (
                pets,
                "GET",
                "/pets",
                Some("ANY /{proxy+}"),
                &[("proxy", "pets")],
            ),
            // Method-specific beats ANY on the same path, whichever was added first.
            (&["ANY /a", "GET /a"], "GET", "/a", Some("GET /a"), &[]),
            (&["GET /a", "ANY /a"], "DELETE", "/a", Some("ANY /a"), &[]),
            // No route for the method on the best path: fall through to less specific ones.
            (
                &["GET /pets/dog", "ANY /{proxy+}"],
                "POST",
                "/pets/dog",
                Some("ANY /{proxy+}"),
                &[("proxy", "pets/dog")],
            ),
            (
                &["GET /pets/dog", "POST /pets/{id}"],
                "POST",
                "/pets/dog",
                Some("POST /pets/{id}"),
                &[("id", "dog")],
            ),
            (&["GET /pets/dog"], "POST", "/pets/dog", None, &[]),
            (
                &["GET /pets/dog", "$default"],
                "POST",
                "/pets/dog",
                Some("$default"),
                &[],
            ),
            // Literal > param > greedy at the same position, with backtracking.
            (
                &["GET /a/b/c", "GET /a/{x}/d"],
                "GET",
                "/a/b/d",
                Some("GET /a/{x}/d"),
                &[("x", "b")],
            ),
            (
                &["GET /a/b/c", "GET /a/{x}/d"],
                "GET",
                "/a/b/c",
                Some("GET /a/b/c"),
                &[],
            ),
            (
                &["GET /pets/{id}", "ANY /pets/{proxy+}"],
                "GET",
                "/pets/7",
                Some("GET /pets/{id}"),
                &[("id", "7")],
            ),
            (
                &["GET /pets/{id}", "ANY /pets/{proxy+}"],
                "GET",
                "/pets/7/toys",
                Some("ANY /pets/{proxy+}"),
                &[("proxy", "7/toys")],
            ),
            (
                &["GET /pets/{id}", "ANY /pets/{proxy+}"],
                "PUT",
                "/pets/7",
                Some("ANY /pets/{proxy+}"),
                &[("proxy", "7")],
            ),
            (
                &["GET /a/{x}/c", "GET /a/{p+}"],
                "GET",
                "/a/b/d",
                Some("GET /a/{p+}"),
                &[("p", "b/d")],
            ),
            (
                &["GET /pets/dog", "GET /pets/{id}"],
                "GET",
                "/pets/dogs",
                Some("GET /pets/{id}"),
                &[("id", "dogs")],
            ),
            (
                &["GET /a/b/{z}", "GET /a/{y}/c", "GET /{x}/b/c"],
                "GET",
                "/a/b/c",
                Some("GET /a/b/{z}"),
                &[("z", "c")],
            ),
            (
                &["GET /a/b/{z}", "GET /a/{y}/c", "GET /{x}/b/c"],
                "GET",
                "/a/x/c",
                Some("GET /a/{y}/c"),
                &[("y", "x")],
            ),
            (
                &["GET /a/b/{z}", "GET /a/{y}/c", "GET /{x}/b/c"],
                "GET",
                "/q/b/c",
                Some("GET /{x}/b/c"),
                &[("x", "q")],
            ),
            (
                &["GET /{a}/{b}/{c}"],
                "GET",
                "/1/2/3",
                Some("GET /{a}/{b}/{c}"),
                &[("a", "1"), ("b", "2"), ("c", "3")],
            ),
            // Greedy needs at least one segment.
            (&["ANY /items/{proxy+}"], "GET", "/items", None, &[]),
            (&["ANY /items/{proxy+}"], "GET", "/items/", None, &[]),
            (&["ANY /items/{proxy+}"], "GET", "/itemsx", None, &[]),
            (
                &["ANY /items/{proxy+}"],
                "GET",
                "/items/a/b",
                Some("ANY /items/{proxy+}"),
                &[("proxy", "a/b")],
            ),
            (&["ANY /{proxy+}"], "GET", "/", None, &[]),
            (
                &["ANY /{proxy+}"],
                "GET",
                "/a/",
                Some("ANY /{proxy+}"),
                &[("proxy", "a/")],
            ),
            // The root route, empty segments and trailing slashes.
            (&["GET /", "ANY /{proxy+}"], "GET", "/", Some("GET /"), &[]),
            (&["GET /a/{id}"], "GET", "/a/", None, &[]),
            (&["GET /a/{id}"], "GET", "/a//", None, &[]),
            (&["GET /notes"], "GET", "/notes/", None, &[]),
            (&["GET /notes"], "GET", "notes", None, &[]),
            // Raw path pieces stay percent-encoded; literals are case-sensitive.
            (
                &["GET /f/{name}"],
                "GET",
                "/f/a%2Fb",
                Some("GET /f/{name}"),
                &[("name", "a%2Fb")],
            ),
            (&["GET /Notes"], "GET", "/notes", None, &[]),
            // Methods no route key can name only match ANY.
            (&["GET /x", "ANY /x"], "TRACE", "/x", Some("ANY /x"), &[]),
            (&["GET /x"], "TRACE", "/x", None, &[]),
            // HEAD is its own method, as in AWS.
            (&["GET /x"], "HEAD", "/x", None, &[]),
            (
                &["$default"],
                "PATCH",
                "/anything/at/all",
                Some("$default"),
                &[],
            ),
            (&[], "GET", "/", None, &[]),
        ];
        for (routes, method, path, expected, params) in cases {
            let t = table(routes);
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let got = t.lookup(&method, path);
            let got_key = got.map(|m| m.route.key.to_string());
            assert_eq!(got_key.as_deref(), *expected, "{routes:?}: {method} {path}");
            if let Some(m) = got {
                let got_params: Vec<_> = m.params().collect();
                assert_eq!(&got_params, params, "{routes:?}: {method} {path}");
            }
        }
    }

    #[test]
    fn rejects_duplicate_routes() {
        for (a, b) in [
            ("GET /pets/{id}", "GET /pets/{petId}"),
            ("ANY /x", "ANY /x"),
            ("ANY /{proxy+}", "ANY /{rest+}"),
            ("$default", "$default"),
        ] {
            let err = build([a, b].map(|k| RouteEntry {
                route_id: format!("r-{k}"),
                key: RouteKey::parse(k).expect("key"),
                integration: None,
                auth: Default::default(),
                index: 0,
            }))
            .expect_err(b);
            assert_eq!(err.other_route_id, format!("r-{a}"));
        }
        // Same path, different methods: fine.
        assert_eq!(table(&["GET /x", "POST /x", "ANY /x", "GET /{y}"]).len(), 4);
    }

    #[test]
    fn param_lookup_by_name() {
        let t = table(&["GET /a/{x}/b/{rest+}"]);
        let m = t.lookup(&Method::GET, "/a/1/b/c/d").expect("match");
        assert_eq!(m.param("x"), Some("1"));
        assert_eq!(m.param("rest"), Some("c/d"));
        assert_eq!(m.param("nope"), None);
    }
}
