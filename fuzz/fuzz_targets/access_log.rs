//! Access-log formats as an admin writes them (`$context.*` templates, AWS's CLF, JSON,
//! XML and CSV examples).
//!
//! Input: the format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portico_model::{LogFormat, LogPart};

fuzz_target!(|format: &str| {
    let Ok(parsed) = LogFormat::parse(format) else {
        return;
    };
    // The static text is the format's own, in order, and nothing in it can break a
    // log line.
    let mut rest = format;
    for part in &parsed.parts {
        if let LogPart::Static(text) = part {
            let at = rest
                .find(text.as_str())
                .expect("static text comes from the format");
            rest = &rest[at + text.len()..];
            assert!(!text.contains(char::is_control));
        }
    }
});
