//! Diagnostic logs on stdout, one event per line, `text` or `json` (`telemetry.logs.std`).

use tracing_subscriber::filter::LevelFilter;

use crate::settings::{LogFormat, Settings};

pub fn init(settings: &Settings) {
    let level = match settings.log_level.as_str() {
        "all" | "debug" => LevelFilter::DEBUG,
        "warn" => LevelFilter::WARN,
        "error" | "fatal" => LevelFilter::ERROR,
        _ => LevelFilter::INFO,
    };
    let builder = tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stdout).with_ansi(false);
    let _ = match settings.log_format {
        LogFormat::None => return,
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}
