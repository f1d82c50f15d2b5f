//! Lambda authorizers' answers, kept for their TTL per node, keyed by the stage and the
//! values of the authorizer's identity sources (AWS: "the identity sources are the
//! cache key"). A cached answer is the function's response, not a decision: an IAM
//! policy is evaluated again for each route, as AWS does with a cached policy.
//!
//! Caches are keyed by authorizer (and the function it calls) and held by the configs
//! that use them, so a redeploy that keeps the authorizer keeps its answers.
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use foldhash::HashMap;

use crate::integrations::lambda::authorizer::AuthorizerAnswer;

/// Most answers one authorizer keeps; past it, expired answers go first, then all.
const MAX_ENTRIES: usize = 10_000;

/// An answer and when it expires.
type Entry = (Instant, Arc<AuthorizerAnswer>);

#[derive(Debug, Default)]
pub struct AuthorizerCache {
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

impl AuthorizerCache {
    pub fn get(&self, key: &str, now: Instant) -> Option<Arc<AuthorizerAnswer>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some((expires, answer)) if *expires > now => Some(answer.clone()),
            _ => None,
        }
    }

    pub fn put(&self, key: &str, answer: Arc<AuthorizerAnswer>, ttl: Duration, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (expires, _)| *expires > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.into(), (now + ttl, answer));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every Lambda authorizer's cache on this node.
#[derive(Debug, Default)]
pub struct AuthorizerCaches {
    caches: Mutex<HashMap<String, Weak<AuthorizerCache>>>,
}

impl AuthorizerCaches {
    pub fn cache(&self, key: &str) -> Arc<AuthorizerCache> {
        let mut caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = caches.get(key).and_then(Weak::upgrade) {
            return c;
        }
        caches.retain(|_, w| w.strong_count() > 0);
        let cache = Arc::new(AuthorizerCache::default());
        caches.insert(key.to_string(), Arc::downgrade(&cache));
        cache
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_last_their_ttl_and_outlive_a_recompile() {
        let caches = AuthorizerCaches::default();
        let cache = caches.cache("api/a1/f/2.0/true");
        let now = Instant::now();
        let answer = Arc::new(AuthorizerAnswer::Simple {
            authorized: true,
            context: Default::default(),
        });
        cache.put("prod\0token", answer, Duration::from_secs(5), now);
        assert!(
            cache
                .get("prod\0token", now + Duration::from_secs(4))
                .is_some()
        );
        assert!(
            cache
                .get("prod\0token", now + Duration::from_secs(5))
                .is_none()
        );
        assert!(
            cache.get("dev\0token", now).is_none(),
            "stages do not share answers"
        );
        let again = caches.cache("api/a1/f/2.0/true");
        assert!(Arc::ptr_eq(&cache, &again));
        assert!(!Arc::ptr_eq(&cache, &caches.cache("api/a1/g/2.0/true")));
    }
}
