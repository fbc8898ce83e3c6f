//! The settings parser (src/settings): `--set key=value` and environment layers, the value
//! parsers (durations, sizes, booleans) and the typed `Settings`.
//!
//! Input lines are `--set` arguments, or environment entries when they start with `E `.
//! Holds: no panic; `Settings::from_raw` accepts only what `check` accepts; the value parsers
//! are total.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringgate::settings::{parse, RawSettings, Settings};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut sets = Vec::new();
    let mut env = Vec::new();
    for line in text.lines().take(64) {
        let _ = parse::duration(line);
        let _ = parse::bytes(line);
        let _ = parse::boolean(line);
        match line.strip_prefix("E ") {
            Some(e) => {
                if let Some((k, v)) = e.split_once('=') {
                    env.push((k.to_string(), v.to_string()));
                }
            }
            None => sets.push(line.to_string()),
        }
    }
    let Ok(raw) = RawSettings::gather(&sets, env, None) else { return };
    let checked = raw.check();
    let _ = raw.describe();
    if Settings::from_raw(&raw).is_ok() {
        assert!(checked.is_ok(), "from_raw accepted what check refused");
    }
});
