//! StatsD (`telemetry.metrics.local=statsd`): APIM's `Requests` counter and `DurationInMS`,
//! `BackendDurationInMS`, `ClientDurationInMS` timers, one sample per request. Workers queue
//! samples per core and hand them over on their tick; this thread formats them with the chosen
//! tag format and sends UDP datagrams, so the event loops never touch the socket.

use std::net::UdpSocket;

use crossbeam_channel::{Receiver, Sender};

/// One request, as StatsD sees it.
#[derive(Clone, Debug)]
pub struct Sample {
    pub api: String,
    pub operation: String,
    pub status: u16,
    /// Total, backend, client (milliseconds).
    pub ms: [f64; 3],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagFormat {
    None,
    DogStatsD,
    InfluxDB,
    Librato,
}

impl TagFormat {
    pub fn parse(v: &str) -> TagFormat {
        match v.to_ascii_lowercase().as_str() {
            "influxdb" => TagFormat::InfluxDB,
            "librato" | "ibrato" => TagFormat::Librato,
            "none" => TagFormat::None,
            _ => TagFormat::DogStatsD,
        }
    }
}

/// A full datagram stays below a typical path MTU.
const MAX_DATAGRAM: usize = 1400;

/// One metric line in the given tag format.
pub fn line(out: &mut String, name: &str, value: &str, kind: &str, tags: &[(&str, &str)], format: TagFormat) {
    let tag_list = |sep: char, kv: char| {
        tags.iter().map(|(k, v)| format!("{k}{kv}{}", clean(v))).collect::<Vec<_>>().join(&sep.to_string())
    };
    match format {
        TagFormat::None => out.push_str(&format!("{name}:{value}|{kind}")),
        TagFormat::DogStatsD => out.push_str(&format!("{name}:{value}|{kind}|#{}", tag_list(',', ':'))),
        TagFormat::InfluxDB => out.push_str(&format!("{name},{}:{value}|{kind}", tag_list(',', '='))),
        TagFormat::Librato => out.push_str(&format!("{name}#{}:{value}|{kind}", tag_list(',', '='))),
    }
    out.push('\n');
}

/// Tag values may not carry the format's separators.
fn clean(v: &str) -> String {
    v.chars().map(|c| if matches!(c, ',' | ':' | '|' | '=' | '#' | '\n') { '_' } else { c }).collect()
}

pub fn spawn(endpoint: &str, format: TagFormat) -> std::io::Result<Sender<Vec<Sample>>> {
    let socket = UdpSocket::bind(("0.0.0.0", 0))?;
    socket.connect(endpoint)?;
    let (tx, rx): (Sender<Vec<Sample>>, Receiver<Vec<Sample>>) = crossbeam_channel::bounded(256);
    std::thread::Builder::new().name("gw-statsd".into()).spawn(move || {
        let mut datagram = String::with_capacity(MAX_DATAGRAM + 256);
        let mut line_buf = String::with_capacity(256);
        for batch in rx {
            for s in batch {
                let class = format!("{}xx", s.status / 100);
                let code = s.status.to_string();
                let tags = [
                    ("ApiId", s.api.as_str()),
                    ("OperationId", s.operation.as_str()),
                    ("ResponseCode", code.as_str()),
                    ("ResponseCodeCategory", class.as_str()),
                ];
                line_buf.clear();
                line(&mut line_buf, "Requests", "1", "c", &tags, format);
                for (name, ms) in
                    [("DurationInMS", s.ms[0]), ("BackendDurationInMS", s.ms[1]), ("ClientDurationInMS", s.ms[2])]
                {
                    line(&mut line_buf, name, &format!("{ms:.3}"), "ms", &tags[..2], format);
                }
                if datagram.len() + line_buf.len() > MAX_DATAGRAM && !datagram.is_empty() {
                    let _ = socket.send(datagram.trim_end().as_bytes());
                    datagram.clear();
                }
                datagram.push_str(&line_buf);
            }
            if !datagram.is_empty() {
                let _ = socket.send(datagram.trim_end().as_bytes());
                datagram.clear();
            }
        }
    })?;
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_formats() {
        let tags = [("ApiId", "echo"), ("ResponseCodeCategory", "2xx")];
        let mut s = String::new();
        line(&mut s, "Requests", "1", "c", &tags, TagFormat::DogStatsD);
        line(&mut s, "Requests", "1", "c", &tags, TagFormat::InfluxDB);
        line(&mut s, "Requests", "1", "c", &tags, TagFormat::Librato);
        line(&mut s, "Requests", "1", "c", &tags, TagFormat::None);
        assert_eq!(
            s,
            "Requests:1|c|#ApiId:echo,ResponseCodeCategory:2xx\nRequests,ApiId=echo,ResponseCodeCategory=2xx:1|c\n\
             Requests#ApiId=echo,ResponseCodeCategory=2xx:1|c\nRequests:1|c\n"
        );
    }
}
