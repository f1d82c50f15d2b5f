//! List calls: `maxResults` / `nextToken` in, one page out.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_model::Page;

use super::{ServiceError, ServiceResult};

/// `maxResults` / `nextToken` of a list call.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub max_results: Option<u32>,
    pub next_token: Option<String>,
}

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;

impl ListParams {
    pub(super) fn limit(&self) -> ServiceResult<u32> {
        match self.max_results {
            None => Ok(DEFAULT_PAGE),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            Some(n) => Err(ServiceError::BadRequest(format!(
                "maxResults must be between 1 and {MAX_PAGE}, got {n}"
            ))),
        }
    }

    /// The key after which the page starts.
    pub(super) fn after(&self) -> ServiceResult<Option<String>> {
        let Some(token) = &self.next_token else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Some)
            .ok_or_else(|| ServiceError::BadRequest("Invalid nextToken".into()))
    }
}

/// Builds a page from `limit + 1` fetched items: the extra one only says there is more.
pub(super) fn page<T>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> &str) -> Page<T> {
    let next_token = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|last| URL_SAFE_NO_PAD.encode(key(last)))
    } else {
        None
    };
    Page { items, next_token }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_a_token_only_when_more_exist() {
        let p = page(vec!["a", "b", "c"], 2, |s| s);
        assert_eq!(p.items, vec!["a", "b"]);
        let params = ListParams {
            max_results: None,
            next_token: p.next_token.clone(),
        };
        assert_eq!(params.after().unwrap().as_deref(), Some("b"));
        let p = page(vec!["a", "b"], 2, |s| s);
        assert!(p.next_token.is_none());
        let bad = ListParams {
            max_results: None,
            next_token: Some("!!".into()),
        };
        assert!(bad.after().is_err());
    }
}
