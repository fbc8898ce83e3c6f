//! Render SVG charts (grouped bars, lines) described by a JSON spec.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ringgate_perf_tools::chart::{load_spec, render_all};

#[derive(Parser, Debug)]
#[command(name = "plot", about, version)]
struct Args {
    /// JSON list of charts (see src/chart.rs for the format)
    #[arg(long)]
    input: PathBuf,
    /// Directory for the SVG files (created if missing)
    #[arg(long)]
    out_dir: PathBuf,
}

fn run(args: &Args) -> Result<(), String> {
    let charts = load_spec(&args.input)?;
    for path in render_all(&charts, &args.out_dir)? {
        eprintln!("plot: wrote {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plot: error: {e}");
            ExitCode::FAILURE
        }
    }
}
