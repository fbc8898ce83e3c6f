//! The configuration document loader (src/config: simd-json, the model walk, named values,
//! fragments, templates, policies, the compiled snapshot) on arbitrary bytes.
//!
//! Holds: no panic; a refused document has at least one problem; loading is deterministic
//! (the same bytes give the same verdict and the same revision).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringgate::config::load_document;

fuzz_target!(|data: &[u8]| {
    let first = load_document(&mut data.to_vec());
    let second = load_document(&mut data.to_vec());
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(a.snapshot.revision, b.snapshot.revision),
        (Err(a), Err(b)) => {
            assert!(!a.problems.is_empty(), "refused without a problem");
            assert_eq!(a.problems.len(), b.problems.len(), "a second load finds other problems");
        }
        _ => panic!("loading the same bytes twice gave different verdicts"),
    }
});
