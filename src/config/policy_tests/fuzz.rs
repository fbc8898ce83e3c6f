//! Property tests: the policy compiler (`check_document`) and the configuration loader
//! (`config::load_document`) return — accept or reject — on any input, never panicking and
//! within a time bound per input. Inputs: arbitrary bytes, arbitrary bytes as the policy of a
//! well-formed configuration, the corpus documents mutated (byte flips, truncations, spans
//! duplicated or removed, pieces of expression and XML syntax inserted), and mutated
//! configuration JSON.
//!
//! Each input runs on its own thread with a watchdog, so a hang fails the test (naming the
//! input) instead of hanging CI. The RNG seed is fixed so CI is reproducible; set
//! `PROPTEST_RNG_SEED` (and `PROPTEST_CASES`, per property) to explore further locally.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

use super::corpus::DOCS;
use crate::policy::{check_document, DocKind};

/// CPU time per input. The compiler takes well under a millisecond on most inputs and about a
/// tenth of a second on the largest pathological shapes (debug build), so this only trips on
/// a blow-up. CPU time of the input's thread, not wall time, so a loaded CI machine does not
/// make it flaky.
const CPU_BUDGET: Duration = Duration::from_secs(2);
/// Wall time after which an input counts as hung.
const HANG: Duration = Duration::from_secs(30);

/// Syntax that stresses the pre-pass, the XML reader and the expression parser.
const PIECES: &[&str] = &[
    "@(",
    "@{",
    "\"",
    "<",
    ">",
    "&&",
    "&",
    "&amp;",
    "&quot;",
    "&#x0;",
    "&lt;",
    ")",
    "}",
    "{",
    "(",
    "{{",
    "}}",
    "{{eu-backend}}",
    "'",
    "\\",
    "$\"{",
    "@\"",
    "/>",
    "</",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?xml version=\"1.0\"?>",
    "<!DOCTYPE x [<!ENTITY e \"&e;&e;\">]>",
    "<when condition=\"@(",
    "<choose>",
    "</choose>",
    "<base />",
    "<include-fragment fragment-id=\"f\" />",
    "?.",
    "??",
    "?",
    ":",
    ";",
    "return ",
    "\n",
    "\t",
    "\0",
    "é",
    "\u{feff}",
    "\u{10ffff}",
    "9999999999999999999999",
    ".As<JObject>(",
    "context.",
];

/// CPU time consumed by the calling thread (Linux: user and system time from
/// `/proc/thread-self/stat`, in ticks of 1/100 s); `None` where it cannot be read.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name: state is field 3, utime 14, stime 15.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Runs `f(input)` on its own thread; fails on a panic, when it uses more than `CPU_BUDGET`
/// of CPU, or when it has not returned after `HANG`.
fn bounded(what: &'static str, input: Vec<u8>, f: fn(&[u8])) -> Result<(), TestCaseError> {
    let (tx, rx) = mpsc::channel();
    let mut shown: String = String::from_utf8_lossy(&input).chars().take(1500).collect();
    if shown.len() < input.len() {
        shown.push_str(&format!("… ({} bytes in all)", input.len()));
    }
    let handle = std::thread::Builder::new()
        .name(format!("fuzz-{what}"))
        .spawn(move || {
            let start = thread_cpu_time();
            f(&input);
            let _ = tx.send(thread_cpu_time().zip(start).map(|(end, start)| end.saturating_sub(start)));
        })
        .expect("spawn");
    match rx.recv_timeout(HANG) {
        Ok(cpu) => {
            let _ = handle.join();
            if let Some(cpu) = cpu.filter(|c| *c > CPU_BUDGET) {
                return Err(TestCaseError::fail(format!("{what} used {cpu:?} of CPU on input {shown:?}")));
            }
            Ok(())
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(TestCaseError::fail(format!("{what} panicked on input {shown:?}")))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // The thread is left running: nothing can stop it, and the test fails anyway.
            Err(TestCaseError::fail(format!("{what} did not return within {HANG:?} on input {shown:?}")))
        }
    }
}

fn compile_both(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let values: HashMap<String, String> = [("eu-backend".to_string(), "https://eu.example/api".to_string())].into();
    let ids = ["b1".to_string()];
    let _ = check_document(&text, DocKind::Policies, &values, Some(&ids));
    let _ = check_document(&text, DocKind::Fragment, &values, None);
}

fn load_raw(bytes: &[u8]) {
    let mut bytes = bytes.to_vec();
    let _ = crate::config::load_document(&mut bytes);
}

/// The text as the policy of an API and of its operation, and as a fragment that the API's
/// policy includes: every policy path of the loader, up to plans.
fn load_as_policy(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let include = r#"<policies><inbound><include-fragment fragment-id="f" /></inbound></policies>"#;
    let doc = serde_json::json!({
        "namedValues": {"eu-backend": "https://eu.example/api", "us-backend": "https://us.example/api"},
        "backends": [{"id": "b1", "url": "http://b1.example"}],
        "policyFragments": {"f": text},
        "apis": [
            {"id": "a", "path": "a", "serviceUrl": "http://a.example", "policy": text,
             "operations": [{"id": "o", "method": "GET", "urlTemplate": "/items/{id}", "policy": text}]},
            {"id": "b", "path": "b", "serviceUrl": "http://b.example", "policy": include}
        ]
    });
    load_raw(doc.to_string().as_bytes());
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Truncate { at: usize },
    Remove { at: usize, len: usize },
    Duplicate { from: usize, len: usize, to: usize },
    Insert { at: usize, piece: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Positions are taken modulo the document's length when applied.
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Remove { at, len }),
        (any::<usize>(), 1usize..80, any::<usize>()).prop_map(|(from, len, to)| Mutation::Duplicate { from, len, to }),
        (any::<usize>(), 0..PIECES.len()).prop_map(|(at, piece)| Mutation::Insert { at, piece }),
        (any::<usize>(), 0..PIECES.len()).prop_map(|(at, piece)| Mutation::Insert { at, piece }),
    ]
}

fn apply(doc: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut s = doc.to_vec();
    for m in muts {
        let pos = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
        match *m {
            Mutation::Flip { at, mask } if !s.is_empty() => {
                let i = at % s.len();
                s[i] ^= mask;
            }
            Mutation::Flip { .. } => {}
            Mutation::Truncate { at } => s.truncate(pos(at, s.len())),
            Mutation::Remove { at, len } => {
                let a = pos(at, s.len());
                let b = (a + len).min(s.len());
                s.drain(a..b);
            }
            Mutation::Duplicate { from, len, to } => {
                let a = pos(from, s.len());
                let span: Vec<u8> = s[a..(a + len).min(s.len())].to_vec();
                let t = pos(to, s.len());
                s.splice(t..t, span);
            }
            Mutation::Insert { at, piece } => {
                let t = pos(at, s.len());
                s.splice(t..t, PIECES[piece].bytes());
            }
        }
    }
    s
}

fn runner(cases: u32) -> TestRunner {
    let base = Config::default();
    let mut cfg = Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() { base.cases } else { cases },
        failure_persistence: None,
        max_shrink_iters: 256,
        ..base
    };
    if matches!(cfg.rng_seed, RngSeed::Random) {
        cfg.rng_seed = RngSeed::Fixed(0x0c0f_fee5_eed5);
    }
    TestRunner::new(cfg)
}

fn check(result: Result<(), proptest::test_runner::TestError<impl std::fmt::Debug>>) {
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn arbitrary_bytes_never_panic_or_hang() {
    let mut r = runner(400);
    check(r.run(&proptest::collection::vec(any::<u8>(), 0..600), |bytes| {
        bounded("check_document", bytes.clone(), compile_both)?;
        bounded("load_document", bytes.clone(), load_raw)?;
        bounded("load_document(policy)", bytes, load_as_policy)
    }));
}

#[test]
fn mutated_corpus_documents_never_panic_or_hang() {
    let mut r = runner(1200);
    let strategy = (0..DOCS.len(), proptest::collection::vec(mutation(), 1..8));
    check(r.run(&strategy, |(doc, muts)| {
        let text = apply(DOCS[doc].1.as_bytes(), &muts);
        bounded("check_document", text.clone(), compile_both)?;
        bounded("load_document(policy)", text, load_as_policy)
    }));
}

#[test]
fn mutated_configuration_json_never_panics_or_hangs() {
    let mut r = runner(300);
    let strategy = (0..DOCS.len(), proptest::collection::vec(mutation(), 1..6));
    check(r.run(&strategy, |(doc, muts)| {
        let json = serde_json::json!({
            "revision": "r",
            "namedValues": {"eu-backend": "https://eu.example/api", "us-backend": "https://us.example/api"},
            "backends": [{"id": "b1", "url": "http://b1.example"}],
            "apis": [{"id": "a", "path": "a", "serviceUrl": "http://a.example", "policy": DOCS[doc].1,
                      "operations": [{"id": "o", "method": "GET", "urlTemplate": "/items/{id}"}]}],
            "products": [{"id": "p", "apis": ["a"]}],
            "subscriptions": [{"id": "s", "scope": "/products/p", "primaryKey": "k"}]
        });
        bounded("load_document", apply(json.to_string().as_bytes(), &muts), load_raw)
    }));
}

/// Inputs a mutator rarely builds: deep nesting and long runs of expression syntax. The
/// loader refuses them or compiles them, in bounded time and stack.
#[test]
fn pathological_shapes_stay_bounded() {
    let shapes: Vec<String> = vec![
        format!("<policies><inbound>{}</inbound></policies>", "<choose><when condition=\"true\">".repeat(10_000)),
        format!(
            "<policies><inbound><set-variable name=\"x\" value=\"@({}1{})\"/></inbound></policies>",
            "(".repeat(10_000),
            ")".repeat(10_000)
        ),
        format!(
            "<policies><inbound><set-variable name=\"x\" value=\"@({}true)\"/></inbound></policies>",
            "!".repeat(10_000)
        ),
        format!(
            "<policies><inbound><set-variable name=\"x\" value=\"@({}1)\"/></inbound></policies>",
            "-".repeat(10_000)
        ),
        format!(
            "<policies><inbound><set-variable name=\"x\" value=\"@(1{})\"/></inbound></policies>",
            " + 1".repeat(10_000)
        ),
        format!(
            "<policies><inbound><set-variable name=\"x\" value=\"@({} 1)\"/></inbound></policies>",
            "true ? 1 :".repeat(10_000)
        ),
        format!(
            "<policies><inbound><set-variable name=\"x\" value=\"@(\"a\"{})\"/></inbound></policies>",
            ".ToUpper()".repeat(10_000)
        ),
        format!(
            "<policies><inbound><set-variable name=\"x\" value=\"@({}\"a\"{})\"/></inbound></policies>",
            "$\"{".repeat(5_000),
            "}\"".repeat(5_000)
        ),
        format!(
            "<policies><inbound><set-variable name=\"x\" value=\"@({}\"a\")\"/></inbound></policies>",
            "(string)".repeat(10_000)
        ),
        format!(
            "<policies><inbound><set-body>@{{ {} return 1; }}</set-body></inbound></policies>",
            "if (true) {".repeat(10_000)
        ),
        format!("<policies><inbound><set-body>@{{ {} return 1; }}</set-body></inbound></policies>", "{".repeat(10_000)),
        format!(
            "<policies><inbound><set-body>@{{ {} return 1; }}</set-body></inbound></policies>",
            "var a = 1; ".repeat(10_000)
        ),
        format!(
            "<policies><inbound><set-header name=\"h\">{}</set-header></inbound></policies>",
            "<value>v</value>".repeat(10_000)
        ),
        format!("<policies>{}</policies>", "<!--".repeat(10_000)),
        format!("<policies><inbound>{}</inbound></policies>", "@(".repeat(10_000)),
        format!("<policies><inbound>{}</inbound></policies>", "{{a}}".repeat(10_000)),
        format!("<policies><inbound a=\"{}\"/></policies>", "&amp;".repeat(10_000)),
    ];
    for (i, s) in shapes.into_iter().enumerate() {
        if std::env::var("SHAPE").is_ok_and(|v| v != i.to_string()) {
            continue;
        }
        eprintln!("shape {i}");
        bounded("check_document", s.clone().into_bytes(), compile_both).unwrap_or_else(|e| panic!("{e}"));
        bounded("load_document(policy)", s.into_bytes(), load_as_policy).unwrap_or_else(|e| panic!("{e}"));
    }
}
