//! What each signal does to a running gateway (README, "Signals"):
//! - SIGTERM, SIGINT, SIGQUIT: drain (stop accepting, finish requests in flight, exit 0); a
//!   second one while draining exits at once with status 1;
//! - SIGHUP: reload the configuration (standalone: re-read the file, as nginx does; managed:
//!   poll the endpoint now); a rejected document leaves the running one in place;
//! - SIGUSR1, SIGUSR2: logged and ignored (logs go to stdout: there is no file to reopen);
//! - SIGPIPE: ignored (Rust's runtime sets it to SIG_IGN; a write to a closed peer is an error).

use crossbeam_channel::Sender;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

use crate::control::ControlMsg;

const HANDLED: [i32; 6] = [SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2];

pub struct Signals(signal_hook::iterator::Signals);

fn name(sig: i32) -> &'static str {
    match sig {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGHUP => "SIGHUP",
        SIGUSR1 => "SIGUSR1",
        SIGUSR2 => "SIGUSR2",
        _ => "signal",
    }
}

impl Signals {
    /// Takes over the signals' handling; until then their default actions apply.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals(signal_hook::iterator::Signals::new(HANDLED)?))
    }

    /// Blocks until a stopping signal, handling SIGHUP and the ignored ones meanwhile. Then
    /// leaves a thread behind that exits at once on a second stopping signal.
    pub fn wait_for_stop(mut self, control: &Sender<ControlMsg>) -> std::io::Result<()> {
        for sig in self.0.forever() {
            match sig {
                SIGHUP => {
                    tracing::info!(signal = "SIGHUP", "signal received: reloading the configuration");
                    // A reload already queued covers this one too.
                    let _ = control.try_send(ControlMsg::Reload);
                }
                SIGUSR1 | SIGUSR2 => {
                    tracing::info!(
                        signal = name(sig),
                        "signal received and ignored (logs go to stdout; nothing to reopen)"
                    )
                }
                _ => {
                    tracing::info!(signal = name(sig), "signal received");
                    break;
                }
            }
        }
        std::thread::Builder::new().name("gw-signals".into()).spawn(move || {
            for sig in self.0.forever() {
                match sig {
                    SIGTERM | SIGINT | SIGQUIT => {
                        tracing::warn!(signal = name(sig), "second stopping signal while draining: exiting now");
                        std::process::exit(1);
                    }
                    _ => tracing::info!(signal = name(sig), "signal received while draining: ignored"),
                }
            }
        })?;
        Ok(())
    }
}
