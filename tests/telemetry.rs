//! Telemetry: Prometheus counts and histograms exact after N calls, the text parses with a real
//! Prometheus parser, OTLP pushes decode with the APIM names, StatsD lines arrive, access-log
//! lines carry the GatewayLogs fields, and no key ever reaches a log.

mod common;

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{python_with_stdin, wait_until, Backend, Gateway};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message;

const KEY: &str = "telemetry-secret-key-0123456789";

fn document(backend: &Backend) -> String {
    format!(
        r#"{{"revision":"t1","apis":[{{"id":"echo","path":"echo","serviceUrl":"{}",
        "operations":[{{"id":"get","method":"GET","urlTemplate":"/*"}}]}}],
        "subscriptions":[{{"id":"sub1","scope":"/apis","primaryKey":"{KEY}","state":"active"}}]}}"#,
        backend.url()
    )
}

/// Sends `ok` admitted calls, `refused` calls with a wrong key and `missing` to an unknown API.
fn traffic(gw: &Gateway, ok: usize, refused: usize, missing: usize) {
    for i in 0..ok {
        let r = gw.get(&format!("/echo/item/{i}?subscription-key={KEY}"), &[]);
        assert_eq!(r.status, 200, "{r:?}");
    }
    for _ in 0..refused {
        let r = gw.get("/echo/item", &[("Ocp-Apim-Subscription-Key", "wrong-key")]);
        assert_eq!(r.status, 401, "{r:?}");
    }
    for _ in 0..missing {
        assert_eq!(gw.get("/nowhere", &[]).status, 404);
    }
}

fn sum_metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn prometheus_counts_are_exact_and_the_text_parses() {
    let backend = Backend::normal();
    let gw = Gateway::start(&document(&backend), &["telemetry.logs.requests=true"]);
    traffic(&gw, 7, 3, 2);
    let n = 12.0;
    let text = wait_until("all 12 requests published", Duration::from_secs(5), || {
        let t = gw.metrics();
        (sum_metric(&t, "ringgate_worker_requests_total") == n).then_some(t)
    });
    assert_eq!(sum_metric(&text, "ringgate_requests_total"), n, "{text}");
    for h in ["request", "backend", "client", "gateway"] {
        assert_eq!(sum_metric(&text, &format!("ringgate_{h}_duration_seconds_count")), n, "{h}: {text}");
    }
    assert!(text.contains(r#"ringgate_requests_total{api="echo",operation="get",code_class="2xx"} 7"#), "{text}");
    assert!(text.contains(r#"ringgate_requests_total{api="echo",operation="",code_class="4xx"} 3"#), "{text}");
    // Buckets are cumulative and end at the count.
    let inf: f64 = text
        .lines()
        .filter(|l| l.starts_with("ringgate_request_duration_seconds_bucket{api=\"echo\",le=\"+Inf\"}"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(inf, 10.0, "7 admitted and 3 refused calls name the echo API: {text}");

    // A real Prometheus parser (prometheus_client, installed by the test command).
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n\
                  fams = list(text_string_to_metric_families(sys.stdin.read()))\n\
                  print(len(fams))";
    let out = python_with_stdin(script, &text);
    assert!(out.status.success(), "prometheus parser rejected /metrics: {}", String::from_utf8_lossy(&out.stderr));
    let families: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
    assert!(families >= 10, "only {families} metric families parsed");
}

#[test]
fn access_log_lines_carry_the_fields_and_no_secret() {
    let backend = Backend::normal();
    let gw = Gateway::start(&document(&backend), &["telemetry.logs.requests=true"]);
    traffic(&gw, 2, 1, 1);
    let r = gw.get(&format!("/echo/x?subscription-key={KEY}"), &[("Authorization", "Bearer tok-secret-42")]);
    assert_eq!(r.status, 200);
    let id = r.header("x-request-id").expect("x-request-id on proxied responses").to_string();
    let lines = wait_until("5 access-log lines", Duration::from_secs(5), || {
        let l: Vec<serde_json::Value> = gw
            .logs()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["category"] == "GatewayLogs")
            .collect();
        (l.len() >= 5).then_some(l)
    });
    for field in [
        "correlationId",
        "method",
        "url",
        "responseCode",
        "responseSize",
        "requestSize",
        "totalTime",
        "backendTime",
        "clientTime",
        "apiId",
        "operationId",
        "productId",
        "apimSubscriptionId",
        "callerIpAddress",
        "backendUrl",
        "backendResponseCode",
        "lastErrorReason",
        "lastErrorSource",
        "clientProtocol",
        "clientTlsVersion",
    ] {
        assert!(lines.iter().all(|l| l.get(field).is_some()), "field {field} missing: {lines:?}");
    }
    let last = lines.iter().find(|l| l["correlationId"] == id.as_str()).expect("the line of the last request");
    assert_eq!(last["responseCode"], 200);
    assert_eq!(last["apiId"], "echo");
    assert_eq!(last["operationId"], "get");
    assert_eq!(last["apimSubscriptionId"], "sub1");
    assert!(last["backendTime"].as_f64().unwrap_or(1e9) <= last["totalTime"].as_f64().unwrap_or(0.0));
    let text = |k: &str| last[k].as_str().unwrap_or_default().to_string();
    assert!(text("url").starts_with("http://") && text("url").ends_with("/echo/x"), "{last}");
    assert_eq!(text("backendUrl"), format!("{}/x", backend.url()), "{last}");
    let time = text("timeGenerated");
    assert!(time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T', "{last}");
    let refused = lines.iter().find(|l| l["responseCode"] == 401).expect("the 401 line");
    assert_eq!(refused["lastErrorReason"], "SubscriptionKeyInvalid");
    let all = gw.log_text();
    assert!(!all.contains(KEY), "the subscription key leaked into the logs");
    assert!(!all.contains("wrong-key"), "a presented key leaked into the logs");
    assert!(!all.contains("tok-secret-42"), "an Authorization value leaked into the logs");
}

#[test]
fn per_request_metrics_can_be_switched_off() {
    let backend = Backend::normal();
    let gw =
        Gateway::start(&document(&backend), &["telemetry.logs.requests=false", "telemetry.metrics.requests=false"]);
    traffic(&gw, 3, 1, 1);
    let text = wait_until("5 requests counted per worker", Duration::from_secs(5), || {
        let t = gw.metrics();
        (sum_metric(&t, "ringgate_worker_requests_total") == 5.0).then_some(t)
    });
    assert_eq!(sum_metric(&text, "ringgate_requests_total"), 0.0, "{text}");
    assert_eq!(sum_metric(&text, "ringgate_request_duration_seconds_count"), 0.0, "{text}");
    assert!(text.contains("ringgate_connections_active"), "{text}");
    assert!(!gw.log_text().contains("GatewayLogs"), "the access log is off");
}

#[test]
fn traceparent_is_propagated_or_created() {
    let backend = Backend::normal();
    let gw = Gateway::start(&document(&backend), &[]);
    let given = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let r = gw.get(&format!("/echo/t?subscription-key={KEY}"), &[("traceparent", given)]);
    assert_eq!(r.status, 200);
    let sent = common::backend::echoed_headers(&r.json(), "traceparent");
    assert_eq!(sent, vec![given.to_string()]);
    let r = gw.get(&format!("/echo/t?subscription-key={KEY}"), &[]);
    let sent = common::backend::echoed_headers(&r.json(), "traceparent");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].starts_with("00-") && sent[0].len() == 55, "{sent:?}");
}

#[test]
fn statsd_receives_requests_and_timers() {
    let backend = Backend::normal();
    let udp = UdpSocket::bind("127.0.0.1:0").expect("udp");
    udp.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
    let endpoint = format!("telemetry.metrics.local.statsd.endpoint={}", udp.local_addr().expect("addr"));
    let gw = Gateway::start(&document(&backend), &["telemetry.metrics.local=statsd", &endpoint]);
    traffic(&gw, 3, 0, 0);
    let mut text = String::new();
    wait_until("3 Requests lines over StatsD", Duration::from_secs(5), || {
        let mut buf = [0u8; 2048];
        if let Ok(n) = udp.recv(&mut buf) {
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            text.push('\n');
        }
        (text.matches("Requests:1|c|#ApiId:echo").count() >= 3).then_some(())
    });
    assert!(text.contains("DurationInMS:"), "{text}");
    assert!(text.contains("BackendDurationInMS:"), "{text}");
    assert!(text.contains("ClientDurationInMS:"), "{text}");
    assert!(!text.contains(KEY));
}

#[test]
fn otlp_push_has_apim_names_dimensions_and_counts() {
    let backend = Backend::normal();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let collector = listener.local_addr().expect("addr");
    let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = bodies.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let sink = sink.clone();
            std::thread::spawn(move || {
                let mut data = Vec::new();
                let mut buf = [0u8; 65536];
                loop {
                    let n = s.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    while let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                            .unwrap_or(0);
                        if data.len() < end + 4 + len {
                            break;
                        }
                        sink.lock().expect("lock").push(data[end + 4..end + 4 + len].to_vec());
                        use std::io::Write;
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                        data.drain(..end + 4 + len);
                    }
                }
            });
        }
    });
    let uri = format!("observability.opentelemetry.collector.uri=http://{collector}");
    let gw = Gateway::start(
        &document(&backend),
        &["observability.opentelemetry.enabled=true", &uri, "observability.opentelemetry.export.interval=200ms"],
    );
    traffic(&gw, 4, 2, 0);
    let req = wait_until("an OTLP push with all 6 requests", Duration::from_secs(10), || {
        let all = bodies.lock().expect("lock").clone();
        all.iter().rev().find_map(|b| {
            let req = ExportMetricsServiceRequest::decode(&b[..]).ok()?;
            let metrics = &req.resource_metrics.first()?.scope_metrics.first()?.metrics;
            let requests = metrics.iter().find(|m| m.name == "Requests")?;
            let Some(Data::Sum(sum)) = &requests.data else { return None };
            let total: i64 = sum
                .data_points
                .iter()
                .filter_map(|p| match p.value {
                    Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(v)) => Some(v),
                    _ => None,
                })
                .sum();
            (total == 6).then_some(req)
        })
    });
    let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
    for name in ["DurationInMs", "BackendDurationInMs", "ClientDurationInMs", "GatewayDurationInMs"] {
        let m = metrics.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("{name} missing"));
        let Some(Data::Histogram(h)) = &m.data else { panic!("{name} is not a histogram") };
        let count: u64 = h.data_points.iter().map(|p| p.count).sum();
        assert_eq!(count, 6, "{name}");
        let p = &h.data_points[0];
        assert_eq!(
            p.explicit_bounds,
            vec![5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0]
        );
        assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count);
    }
    let Some(Data::Sum(sum)) = &metrics.iter().find(|m| m.name == "Requests").and_then(|m| m.data.clone()) else {
        panic!("Requests")
    };
    let dims: Vec<String> = sum.data_points.iter().flat_map(|p| p.attributes.iter().map(|a| a.key.clone())).collect();
    for d in ["ApiId", "ResponseCodeCategory"] {
        assert!(dims.iter().any(|k| k == d), "dimension {d} missing: {dims:?}");
    }
}
