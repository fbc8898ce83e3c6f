//! The `ringgate` command: run the gateway (default), validate a document, print settings.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ringgate::settings::{RawSettings, Settings};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Allocator options must be set before the first allocation, and Rust's runtime allocates
/// before `main`: a load-time constructor runs first.
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = {
    extern "C" fn tune() {
        ringgate::sys::tune_allocator();
    }
    tune
};

#[derive(Parser)]
#[command(name = "ringgate", version = ringgate::telemetry::build_info::LONG_VERSION, about = "A thread-per-core, io_uring API gateway")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: SettingsArgs,
}

#[derive(Args, Clone, Default)]
struct SettingsArgs {
    /// A settings file in env.conf form (`key=value` lines, `#` comments).
    #[arg(long, global = true, value_name = "FILE")]
    settings: Option<String>,
    /// A setting as a dotted key, e.g. `--set runtime.workers=2` (repeatable; wins over all else).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default). With no configuration at all it serves the built-in demo.
    Run,
    /// Check a configuration document: exit 0 when valid, 1 with one problem per line otherwise.
    Validate { file: String },
    /// Print the effective settings and where each came from (secrets masked).
    Settings,
    /// Run the management server that gateways take their configuration from.
    ControlPlane {
        /// Folder for the control plane's state (documents, keys, heartbeats).
        #[arg(long)]
        data: std::path::PathBuf,
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: std::net::SocketAddr,
        /// File holding the admin key (default: DATA/admin.key, generated on first start).
        #[arg(long)]
        admin_key_file: Option<std::path::PathBuf>,
        /// Certificate chain to serve HTTPS with (PEM; default: DATA/tls/cert.pem, self-signed,
        /// generated on first start).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// Private key of --tls-cert (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// A further DNS name or IP address for the generated certificate (repeatable).
        #[arg(long = "tls-name")]
        tls_names: Vec<String>,
        /// Serve plain HTTP instead of HTTPS: tokens and documents in the clear (development only).
        #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
        plain_http: bool,
        /// The largest master document PUT /admin/document accepts, in bytes.
        #[arg(long, default_value_t = ringgate::control_plane::DEFAULT_MAX_DOCUMENT_BYTES)]
        max_document_bytes: u64,
    },
    /// Print a gateway token (the value for config.service.auth).
    Token {
        #[arg(long)]
        gateway: String,
        /// The gateway's primary or secondary key.
        #[arg(long)]
        key: String,
        /// How long the token lives (e.g. 30d, 12h) or until when (2026-12-01T00:00:00Z); at most 30 days.
        #[arg(long, default_value = "30d")]
        expiry: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let gather = || RawSettings::gather(&cli.settings.set, std::env::vars(), cli.settings.settings.as_deref());
    match cli.command {
        Some(Command::Validate { file }) => validate(&file),
        Some(Command::ControlPlane {
            data,
            listen,
            admin_key_file,
            tls_cert,
            tls_key,
            tls_names,
            plain_http,
            max_document_bytes,
        }) => {
            let opts = ringgate::control_plane::Options {
                data,
                listen,
                admin_key_file,
                tls_cert,
                tls_key,
                tls_names,
                plain_http,
                max_document_bytes,
            };
            match ringgate::control_plane::run(opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Some(Command::Token { gateway, key, expiry }) => {
            match ringgate::token::token_command(&gateway, &key, &expiry) {
                Ok(t) => {
                    println!("{t}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some(Command::Settings) => match gather().and_then(|raw| raw.check().map(|_| raw)) {
            Ok(raw) => {
                for w in &raw.warnings {
                    eprintln!("warning: {w}");
                }
                print!("{}", raw.describe());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Some(Command::Run) | None => {
            let raw = match gather() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let settings = match Settings::from_raw(&raw) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            ringgate::logging::init(&settings);
            for w in &raw.warnings {
                tracing::warn!("{w}");
            }
            match ringgate::gateway::run(settings) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    eprintln!("error: {e:#}");
                    ExitCode::from(e.exit_code())
                }
            }
        }
    }
}

fn validate(file: &str) -> ExitCode {
    let mut bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            println!("{file}: {e}");
            return ExitCode::from(1);
        }
    };
    match ringgate::config::load_document(&mut bytes) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                println!("warning: {}: {}", w.path, w.message);
            }
            let revision = loaded.snapshot.revision.clone();
            let built = ringgate::snapshot::Builder::with_defaults()
                .map_err(|e| e.to_string())
                .and_then(|b| b.build(loaded.snapshot, 0).map(drop).map_err(|e| e.to_string()));
            if let Err(e) = built {
                println!("{e}");
                return ExitCode::from(1);
            }
            println!("{file}: valid (revision {revision})");
            ExitCode::SUCCESS
        }
        Err(e) => {
            for p in &e.problems {
                println!("{p}");
            }
            ExitCode::from(1)
        }
    }
}
