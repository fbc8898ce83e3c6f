//! Hostile bodies against the policies that parse them outside expressions (json-to-xml,
//! xml-to-json, find-and-replace): deep nesting (100,000 `[` or `<a>`) and ballooning shapes
//! are refused with 413 and `BodyParseBudgetExceeded` (in the access log too), the gateway
//! keeps serving, and the conversions' peak memory, measured here with a counting allocator,
//! stays within the documented multiple of the body.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use common::{wait_until, Backend, Conn, Gateway};
use ringgate::policy::policies::budget;
use ringgate::policy::policies::{json_to_xml, xml_to_json};
use serde_json::json;

/// Counts the heap bytes the measuring thread holds and their peak (other tests' threads
/// allocate at the same time and are not counted).
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

fn measuring() -> bool {
    MEASURING.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() && measuring() {
            let now = LIVE.fetch_add(l.size() as isize, Ordering::Relaxed) + l.size() as isize;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    // Delegated, as the system allocator grows large blocks in place (mremap): the old and
    // the new block are not both live.
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() && measuring() {
            let now =
                LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed) + new as isize - l.size() as isize;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        q
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        if measuring() {
            LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap bytes `f` held at once on this thread.
fn peak_of<T>(f: impl FnOnce() -> T) -> (usize, T) {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    MEASURING.with(|m| m.set(true));
    let out = f();
    MEASURING.with(|m| m.set(false));
    (PEAK.load(Ordering::Relaxed).max(0) as usize, out)
}

#[test]
fn conversions_stay_within_their_memory_budget() {
    let n = budget::MAX_INLINE / 2;
    let json_shapes: Vec<(&str, Vec<u8>)> = vec![
        ("numbers", format!("[{}1]", "1,".repeat(n / 2)).into_bytes()),
        ("empty objects", format!("[{}{{}}]", "{},".repeat(n / 3)).into_bytes()),
        (
            "members",
            format!("{{{}\"z\":1}}", (0..n / 8).map(|i| format!("\"k{i}\":0,")).collect::<String>()).into_bytes(),
        ),
        ("escapes", format!("[\"{}\"]", "<&".repeat(n / 2)).into_bytes()),
        ("long key", format!("{{\"{}\":[{}1]}}", "k".repeat(1000), "1,".repeat(n / 2)).into_bytes()),
    ];
    for (what, body) in &json_shapes {
        let (peak, r) = peak_of(|| json_to_xml::convert(body).map(|x| x.len()));
        let allowed = budget::peak_for(body.len());
        assert!(peak <= allowed, "json-to-xml {what}: peak {peak} bytes for {} (allowed {allowed}): {r:?}", body.len());
        eprintln!(
            "json-to-xml {what}: {} bytes in, peak {peak} ({:.1}x), {r:?}",
            body.len(),
            peak as f64 / body.len() as f64
        );
    }
    let xml_shapes: Vec<(&str, Vec<u8>)> = vec![
        ("empty elements", format!("<r>{}</r>", "<a/>".repeat(n / 4)).into_bytes()),
        ("small elements", format!("<r>{}</r>", "<i>1</i>".repeat(n / 8)).into_bytes()),
        ("attributes", format!("<r{}/>", (0..n / 8).map(|i| format!(" a{i}=\"\"")).collect::<String>()).into_bytes()),
        ("mixed text", format!("<r>{}</r>", "x<b/>".repeat(n / 5)).into_bytes()),
        ("nested pairs", format!("<r>{}</r>", "<i><v>1</v></i>".repeat(n / 16)).into_bytes()),
    ];
    for (what, body) in &xml_shapes {
        let (peak, r) = peak_of(|| xml_to_json::convert(body, true).map(|x| x.len()));
        let allowed = budget::peak_for(body.len());
        assert!(peak <= allowed, "xml-to-json {what}: peak {peak} bytes for {} (allowed {allowed}): {r:?}", body.len());
        eprintln!(
            "xml-to-json {what}: {} bytes in, peak {peak} ({:.1}x), {r:?}",
            body.len(),
            peak as f64 / body.len() as f64
        );
    }
    // The inline cap, timed (a dev build: a release build is several times faster).
    let at_cap = format!("<r>{}</r>", "<i>1</i>".repeat(budget::MAX_INLINE / 8 - 1));
    let started = Instant::now();
    let _ = xml_to_json::convert(at_cap.as_bytes(), false);
    eprintln!("xml-to-json of {} bytes: {:?}", at_cap.len(), started.elapsed());
    let at_cap = format!("[{}1]", "1,".repeat(budget::MAX_INLINE / 2 - 2));
    let started = Instant::now();
    let _ = json_to_xml::convert(at_cap.as_bytes());
    eprintln!("json-to-xml of {} bytes: {:?}", at_cap.len(), started.elapsed());
}

fn document(b: &Backend) -> String {
    let api = |id: &str, inbound: &str| {
        json!({"id": id, "path": id, "serviceUrl": b.url(), "subscriptionRequired": false,
               "policy": format!("<policies><inbound>{inbound}</inbound><backend><forward-request/></backend></policies>")})
    };
    json!({"revision": "budgets", "apis": [
        api("j", r#"<json-to-xml apply="always" consider-accept-header="false"/>"#),
        api("x", r#"<xml-to-json kind="direct" apply="always" consider-accept-header="false"/>"#),
        api("f", &format!(r#"<find-and-replace from="a" to="{}"/>"#, "b".repeat(10_000))),
        // A response body (here set by the policy itself) is refused with 502.
        json!({"id": "o", "path": "o", "serviceUrl": b.url(), "subscriptionRequired": false,
               "policy": format!("<policies><inbound/><backend><forward-request/></backend><outbound><set-body>{}</set-body>\
                                  <json-to-xml apply=\"always\" consider-accept-header=\"false\"/></outbound></policies>",
                                 "[".repeat(100_000))}),
    ]})
    .to_string()
}

#[test]
fn hostile_bodies_are_refused_with_413_and_the_gateway_keeps_serving() {
    let b = Backend::normal();
    let gw = Gateway::start(&document(&b), &["telemetry.logs.requests=true", "net.server.limits.body-bytes=8388608"]);
    let mut c = Conn::connect(gw.http_addr());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("/j/echo", "[".repeat(100_000).into_bytes()),
        ("/j/echo", "{\"a\":".repeat(50_000).into_bytes()),
        ("/j/echo", format!("{{\"{}\":[{}1]}}", "k".repeat(4000), "1,".repeat(20_000)).into_bytes()),
        ("/x/echo", "<a>".repeat(100_000).into_bytes()),
        // Within the inline cap, so the depth limit (not the size) refuses it.
        ("/x/echo", "<a>".repeat(80_000).into_bytes()),
        // Over the cap: refused before parsing.
        ("/x/echo", format!("<r>{}</r>", "<a/>".repeat(100_000)).into_bytes()),
        ("/f/echo", "a".repeat(10_000).into_bytes()),
    ];
    for (path, body) in &cases {
        let started = Instant::now();
        let r = c.request("POST", path, &[("Content-Type", "application/octet-stream")], body);
        assert_eq!(r.status, 413, "{path} {} bytes: {r:?}", body.len());
        assert!(started.elapsed() < Duration::from_secs(5), "{path}: {:?}", started.elapsed());
        let message = r.json()["message"].as_str().unwrap_or("").to_string();
        assert!(message.contains("refused a body"), "{path}: {message}");
        c = Conn::connect(gw.http_addr());
    }
    // Well-formed, reasonable bodies still convert.
    let r = c.request("POST", "/j/echo", &[("Content-Type", "application/json")], br#"{"a":[1,2]}"#);
    assert_eq!(r.status, 200, "{r:?}");
    let r = c.request("POST", "/x/echo", &[("Content-Type", "text/xml")], b"<a><b>1</b></a>");
    assert_eq!(r.status, 200, "{r:?}");
    let r = Conn::connect(gw.http_addr()).request("GET", "/o/echo", &[], b"");
    assert_eq!(r.status, 502, "{r:?}");
    let lines = wait_until("the refusals in the access log", Duration::from_secs(5), || {
        let n = gw
            .logs()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["lastErrorReason"] == "BodyParseBudgetExceeded" && v["responseCode"] == 413)
            .count();
        (n >= cases.len()).then_some(n)
    });
    assert_eq!(lines, cases.len());
}
