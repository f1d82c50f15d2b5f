//! The OpenAPI importer (ImportApi, ReimportApi): JSON or YAML text to the plan of what
//! importing it creates, with every route key, integration URI and mapping in it
//! validated as the admin API would. No store.
//!
//! Input: the document; its length picks the `basepath` mode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portico_model::RouteKey;
use portico_model::openapi::{Basepath, plan_import};

fuzz_target!(|text: &str| {
    let basepath = [Basepath::Ignore, Basepath::Prepend, Basepath::Split][text.len() % 3];
    let Ok(plan) = plan_import(text, basepath) else {
        return;
    };
    for route in &plan.routes {
        // A planned route is one the admin API will accept.
        assert!(
            RouteKey::parse(&route.route_key).is_ok(),
            "planned route key {:?}",
            route.route_key
        );
        if let Some(i) = route.integration {
            assert!(i < plan.integrations.len());
        }
        if let Some(a) = route.authorizer {
            assert!(a < plan.authorizers.len());
        }
    }
});
