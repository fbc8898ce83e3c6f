//! OpenTelemetry: pushes APIM's metric names and dimensions (`Requests`, `DurationInMs`,
//! `BackendDurationInMs`, `ClientDurationInMs`, `GatewayDurationInMs`) as OTLP/HTTP protobuf to
//! `observability.opentelemetry.collector.uri` + `/v1/metrics` every export interval, from its own
//! thread. Cumulative temporality: the node's merged counters and histograms since start.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use super::histograms::{at_or_below, ApiHistograms};
use super::totals::{Totals, TotalsSource};

/// The APIM names of the four duration histograms, in `Record::durations` order.
pub const DURATION_NAMES: [&str; 4] =
    ["DurationInMs", "BackendDurationInMs", "ClientDurationInMs", "GatewayDurationInMs"];

pub struct Exporter {
    pub url: String,
    pub interval: Duration,
    pub buckets_ms: Vec<f64>,
    pub node: Arc<dyn TotalsSource>,
}

impl Exporter {
    pub fn spawn(self) -> std::io::Result<()> {
        std::thread::Builder::new().name("gw-otlp".into()).spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .http_status_as_error(false)
                .build()
                .into();
            loop {
                std::thread::sleep(self.interval);
                let body = encode(&*self.node, &self.buckets_ms);
                let sent = agent.post(&self.url).header("Content-Type", "application/x-protobuf").send(&body[..]);
                match sent {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => tracing::warn!(status = r.status().as_u16(), "OTLP export refused"),
                    Err(e) => tracing::warn!(error = %e, "OTLP export failed"),
                }
            }
        })?;
        Ok(())
    }
}

fn attr(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.to_string())) }),
        ..Default::default()
    }
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// The export request for the node's current totals, protobuf-encoded.
pub fn encode(node: &dyn TotalsSource, buckets_ms: &[f64]) -> Vec<u8> {
    let now = SystemTime::now();
    let start = unix_nanos(now - node.started().elapsed());
    let now = unix_nanos(now);
    let Totals { by_route, histograms, .. } = node.totals();
    let cumulative = AggregationTemporality::Cumulative as i32;
    let mut metrics = Vec::new();
    let points = by_route
        .iter()
        .map(|((api, op, class), n)| NumberDataPoint {
            attributes: vec![attr("ApiId", api), attr("OperationId", op), attr("ResponseCodeCategory", class)],
            start_time_unix_nano: start,
            time_unix_nano: now,
            value: Some(number_data_point::Value::AsInt(*n as i64)),
            ..Default::default()
        })
        .collect();
    metrics.push(Metric {
        name: "Requests".into(),
        description: "Gateway requests".into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: cumulative,
            is_monotonic: true,
        })),
        ..Default::default()
    });
    for (i, name) in DURATION_NAMES.iter().enumerate() {
        let points = histograms.iter().map(|(api, h)| point(api, h, i, buckets_ms, start, now)).collect();
        metrics.push(Metric {
            name: (*name).into(),
            unit: "ms".into(),
            data: Some(metric::Data::Histogram(Histogram { data_points: points, aggregation_temporality: cumulative })),
            ..Default::default()
        });
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![attr("service.name", "ringgate"), attr("Hostname", host.trim())],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "ringgate".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    request.encode_to_vec()
}

fn point(api: &str, h: &ApiHistograms, which: usize, bounds_ms: &[f64], start: u64, now: u64) -> HistogramDataPoint {
    let hist = &h.durations[which];
    let mut counts = Vec::with_capacity(bounds_ms.len() + 1);
    let mut below = 0;
    for b in bounds_ms {
        let cumulative = at_or_below(hist, (b * 1000.0) as u64);
        counts.push(cumulative.saturating_sub(below));
        below = cumulative;
    }
    counts.push(hist.len().saturating_sub(below));
    HistogramDataPoint {
        attributes: vec![attr("ApiId", api)],
        start_time_unix_nano: start,
        time_unix_nano: now,
        count: hist.len(),
        sum: Some(h.duration_sums_us[which] as f64 / 1000.0),
        bucket_counts: counts,
        explicit_bounds: bounds_ms.to_vec(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_apim_names_counts_and_buckets() {
        // Two workers' worth, summed, as the node hands them over.
        struct TwoWorkers(std::time::Instant);
        impl TotalsSource for TwoWorkers {
            fn started(&self) -> std::time::Instant {
                self.0
            }
            fn totals(&self) -> Totals {
                let mut t = Totals::default();
                t.by_route.insert(("echo".into(), "get".into(), "2xx"), 6);
                let mut h = ApiHistograms::default();
                for _ in 0..2 {
                    h.record([2_000, 1_000, 500, 500], 10, 10);
                    h.record([30_000, 20_000, 5_000, 5_000], 10, 10);
                }
                t.histograms.insert("echo".into(), h);
                t
            }
        }
        let bytes = encode(&TwoWorkers(std::time::Instant::now()), &[5.0, 10.0, 25.0]);
        let req = ExportMetricsServiceRequest::decode(&bytes[..]).expect("valid protobuf");
        let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            ["Requests", "DurationInMs", "BackendDurationInMs", "ClientDurationInMs", "GatewayDurationInMs"]
        );
        let Some(metric::Data::Sum(sum)) = &metrics[0].data else { panic!("Requests is a sum") };
        assert_eq!(sum.data_points[0].value, Some(number_data_point::Value::AsInt(6)));
        let Some(metric::Data::Histogram(h)) = &metrics[1].data else { panic!("a histogram") };
        let p = &h.data_points[0];
        assert_eq!(p.count, 4);
        assert_eq!(p.bucket_counts, vec![2, 0, 0, 2], "2 ms twice (<=5), 30 ms twice (>25)");
    }
}
