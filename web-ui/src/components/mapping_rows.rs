//! The rows of a parameter-mapping editor (an integration's `requestParameters` or
//! `responseParameters`) and what they become in a request body. An update is merged
//! into what is stored, as on AWS: a key sent with an empty value is removed, and a status
//! code sent with `{}` loses all its mappings; so an edit also sends, that way, what the
//! rows no longer hold.
use std::collections::BTreeMap;

use leptos::prelude::*;

/// One mapping; `status` is used by response mappings only.
#[derive(Clone, Copy)]
pub struct MappingRow {
    /// Stable while the row lives, so that removing a row leaves the others' inputs be.
    pub id: u64,
    pub status: RwSignal<String>,
    pub key: RwSignal<String>,
    pub value: RwSignal<String>,
    /// Why the form did not send the rows, found before sending.
    pub problem: RwSignal<Option<&'static str>>,
}

/// The rows of one editor.
#[derive(Clone, Copy)]
pub struct MappingRows {
    pub rows: RwSignal<Vec<MappingRow>>,
    next_id: RwSignal<u64>,
    /// Response mappings: every row has a status code.
    pub with_status: bool,
}

/// A row's text as it is sent: trimmed.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    id: u64,
    status: String,
    key: String,
    value: String,
}

impl MappingRows {
    pub fn request(stored: &BTreeMap<String, String>) -> Self {
        let rows = Self::empty(false);
        for (key, value) in stored {
            rows.push("", key, value);
        }
        rows
    }

    pub fn response(stored: &BTreeMap<String, BTreeMap<String, String>>) -> Self {
        let rows = Self::empty(true);
        for (status, mappings) in stored {
            for (key, value) in mappings {
                rows.push(status, key, value);
            }
        }
        rows
    }

    fn empty(with_status: bool) -> Self {
        MappingRows {
            rows: RwSignal::new(Vec::new()),
            next_id: RwSignal::new(0),
            with_status,
        }
    }

    fn push(&self, status: &str, key: &str, value: &str) {
        let id = self.next_id.get_untracked();
        self.next_id.set(id + 1);
        let row = MappingRow {
            id,
            status: RwSignal::new(status.to_owned()),
            key: RwSignal::new(key.to_owned()),
            value: RwSignal::new(value.to_owned()),
            problem: RwSignal::new(None),
        };
        self.rows.update(|rows| rows.push(row));
    }

    /// A new empty row; a response row starts at 200, the status code most mappings are for.
    pub fn add(&self) {
        self.push(if self.with_status { "200" } else { "" }, "", "");
    }

    pub fn remove(&self, id: u64) {
        self.rows.update(|rows| rows.retain(|r| r.id != id));
    }

    pub fn clear(&self) {
        self.rows.set(Vec::new());
    }

    fn entries(&self) -> Vec<Entry> {
        self.rows.with_untracked(|rows| {
            rows.iter()
                .map(|r| Entry {
                    id: r.id,
                    status: r.status.get_untracked().trim().to_owned(),
                    key: r.key.get_untracked().trim().to_owned(),
                    value: r.value.get_untracked().trim().to_owned(),
                })
                .collect()
        })
    }

    /// Marks every row that cannot be sent as it is; true when none is marked.
    pub fn check(&self) -> bool {
        let entries = self.entries();
        let mut ok = true;
        self.rows.with_untracked(|rows| {
            for (row, entry) in rows.iter().zip(&entries) {
                let problem = problem(entry, &entries, self.with_status);
                ok &= problem.is_none();
                row.problem.set(problem);
            }
        });
        ok
    }

    /// The `requestParameters` to send; `stored` is what an edit started from.
    pub fn request_body(
        &self,
        stored: Option<&BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        request_parameters(&self.entries(), stored)
    }

    /// The `responseParameters` to send; `stored` is what an edit started from.
    pub fn response_body(
        &self,
        stored: Option<&BTreeMap<String, BTreeMap<String, String>>>,
    ) -> BTreeMap<String, BTreeMap<String, String>> {
        response_parameters(&self.entries(), stored)
    }

    /// The row an API message is about: the one whose key, or status code, it quotes.
    pub fn quoted_row(&self, message: &str) -> Option<u64> {
        quoted_row(message, &self.entries())
    }
}

fn problem(entry: &Entry, all: &[Entry], with_status: bool) -> Option<&'static str> {
    if with_status && entry.status.is_empty() {
        return Some("Enter a status code");
    }
    if entry.key.is_empty() {
        return Some("Enter a key");
    }
    // An empty value is how an update removes a key: it must never be sent by mistake.
    if entry.value.is_empty() && !is_remove(&entry.key) {
        return Some("Enter a value");
    }
    let first = all
        .iter()
        .find(|e| e.status == entry.status && e.key == entry.key);
    if first.is_some_and(|e| e.id != entry.id) {
        return Some("Another row above has this key");
    }
    None
}

fn is_remove(key: &str) -> bool {
    key.starts_with("remove:")
}

/// A `remove:` mapping's value is `''` on AWS; an empty one would delete the mapping.
fn sent_value(entry: &Entry) -> String {
    if entry.value.is_empty() && is_remove(&entry.key) {
        "''".to_owned()
    } else {
        entry.value.clone()
    }
}

fn request_parameters(
    rows: &[Entry],
    stored: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = stored
        .into_iter()
        .flatten()
        .map(|(key, _)| (key.clone(), String::new()))
        .collect();
    for row in rows {
        out.insert(row.key.clone(), sent_value(row));
    }
    out
}

fn response_parameters(
    rows: &[Entry],
    stored: Option<&BTreeMap<String, BTreeMap<String, String>>>,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for row in rows {
        out.entry(row.status.clone())
            .or_default()
            .insert(row.key.clone(), sent_value(row));
    }
    for (status, old) in stored.into_iter().flatten() {
        match out.get_mut(status) {
            Some(now) => {
                for key in old.keys() {
                    now.entry(key.clone()).or_default();
                }
            }
            None => {
                out.insert(status.clone(), BTreeMap::new());
            }
        }
    }
    out
}

fn quoted_row(message: &str, rows: &[Entry]) -> Option<u64> {
    let quotes = |s: &str| !s.is_empty() && message.contains(&format!("'{s}'"));
    // A response key is quoted with its status code, and the same key may be under two.
    rows.iter()
        .find(|r| {
            !r.status.is_empty()
                && message.contains(&format!("'{}' of status code '{}'", r.key, r.status))
        })
        .or_else(|| rows.iter().find(|r| quotes(&r.key)))
        .or_else(|| rows.iter().find(|r| quotes(&r.status)))
        .map(|r| r.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, status: &str, key: &str, value: &str) -> Entry {
        Entry {
            id,
            status: status.into(),
            key: key.into(),
            value: value.into(),
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_edit_sends_removed_keys_empty() {
        let stored = map(&[
            ("append:header.x-old", "$request.header.a"),
            ("overwrite:path", "/v2"),
        ]);
        let rows = [
            entry(0, "", "overwrite:path", "/v3"),
            entry(1, "", "remove:header.x-debug", ""),
        ];
        assert_eq!(
            request_parameters(&rows, Some(&stored)),
            map(&[
                ("append:header.x-old", ""),
                ("overwrite:path", "/v3"),
                ("remove:header.x-debug", "''"),
            ])
        );
        assert_eq!(
            request_parameters(&rows[..1], None),
            map(&[("overwrite:path", "/v3")])
        );
    }

    #[test]
    fn a_status_code_without_rows_is_sent_empty() {
        let stored: BTreeMap<String, BTreeMap<String, String>> = [
            (
                "200".to_string(),
                map(&[("append:header.a", "x"), ("append:header.b", "y")]),
            ),
            ("404".to_string(), map(&[("overwrite:statuscode", "410")])),
        ]
        .into();
        let rows = [entry(0, "200", "append:header.a", "z")];
        let sent = response_parameters(&rows, Some(&stored));
        assert_eq!(
            sent["200"],
            map(&[("append:header.a", "z"), ("append:header.b", "")])
        );
        assert_eq!(sent["404"], BTreeMap::new());
    }

    #[test]
    fn rows_that_cannot_be_sent() {
        let all = [
            entry(0, "", "", "x"),
            entry(1, "", "append:header.a", ""),
            entry(2, "", "remove:header.b", ""),
            entry(3, "", "append:header.a", "y"),
        ];
        assert_eq!(problem(&all[0], &all, false), Some("Enter a key"));
        assert_eq!(problem(&all[1], &all, false), Some("Enter a value"));
        assert_eq!(problem(&all[2], &all, false), None);
        assert_eq!(
            problem(&all[3], &all, false),
            Some("Another row above has this key")
        );
        let status = entry(4, "", "append:header.a", "x");
        assert_eq!(problem(&status, &[], true), Some("Enter a status code"));
    }

    #[test]
    fn messages_go_to_the_row_they_quote() {
        let rows = [
            entry(0, "200", "append:header.a", "x"),
            entry(1, "404", "append:header.a", "x"),
            entry(2, "700", "overwrite:statuscode", "201"),
        ];
        let q = |m: &str| quoted_row(m, &rows);
        assert_eq!(
            q("Invalid mapping key specified: 'append:header.a' of status code '404': no"),
            Some(1)
        );
        assert_eq!(
            q("Invalid status code specified: '700': responseParameters are keyed by …"),
            Some(2)
        );
        assert_eq!(q("Something else"), None);
        let request = [entry(0, "", "append:header.x", "$request.body.x")];
        assert_eq!(
            quoted_row(
                "Invalid mapping expression specified: '$request.body.x' for key 'append:header.x': …",
                &request
            ),
            Some(0)
        );
    }
}
