//! The byte tunnel a WebSocket connection becomes after the backend's `101`: both directions
//! at once on the core's event loop, each relaying what it reads as it comes (one buffer per
//! direction, no message reassembly; the payload of a large frame spliced kernel to kernel
//! when both sides are plain TCP). It ends when both sides have closed, when neither sent a
//! byte for the idle timeout, or at the drain's stop (a 1001 close frame to each side, between
//! two frames).

use std::cell::Cell;
use std::pin::pin;
use std::time::{Duration, Instant};

use monoio::io::splice::{SpliceDestination, SpliceSource};
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt};
use monoio::net::Pipe;

use super::frames::{close_to_client, close_to_server, FrameCursor, GOING_AWAY};
use crate::proxy::context::BUF_SIZE;
use crate::proxy::io::{read_more, read_window, Duplex, IoFailure};
use crate::proxy::stop::Stop;
use crate::proxy::upstream::split::{split, ReadHalf, WriteHalf};

/// Once one side has closed, how long the other has to close too.
const LINGER: Duration = Duration::from_secs(2);
/// After the drain's close frame, how long the peer's reply (its close frame, its FIN) is read
/// and dropped, so that the socket closes without unread bytes (no reset).
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// How long a worker gives its tunnels, once stopped, to send their close frames and close:
/// the write, the peer's reply ([`CLOSE_WAIT`]) and a margin.
pub const STOP_GRACE: Duration = Duration::from_millis(2 * 1000 + 500);
/// The first read of each direction takes at most this much.
const FIRST_WINDOW: usize = 4096;

/// How a tunnel ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Both sides closed (or one did and the other followed within [`LINGER`]).
    Closed,
    /// Nothing moved either way for the idle timeout.
    Idle,
    /// The drain timeout ended: each side got a 1001 close frame.
    Drained,
    /// A side broke the connection (reset, a write that could not finish).
    Failed,
}

impl End {
    pub fn as_str(self) -> &'static str {
        match self {
            End::Closed => "closed",
            End::Idle => "idle",
            End::Drained => "drained",
            End::Failed => "failed",
        }
    }
}

pub struct Totals {
    /// Bytes client → backend, and backend → client, after the handshake.
    pub up: u64,
    pub down: u64,
    pub spliced: u64,
    pub end: End,
}

/// Which side a direction writes to: frames to a server are masked (RFC 6455 §5.3).
#[derive(Clone, Copy)]
enum Toward {
    Backend,
    Client,
}

/// What both directions share.
struct Shared<'a> {
    /// Bumped each time bytes move either way; the watch notes when it last changed (no clock
    /// read and no timer per read or write: at small messages they cost more than the relay).
    activity: Cell<u64>,
    /// Set when a side closed or broke: the other must be done by then.
    deadline: Cell<Option<Instant>>,
    stop: &'a Stop,
    idle: Duration,
    /// Bytes relayed toward the backend and toward the client.
    up: Cell<u64>,
    down: Cell<u64>,
    /// Of those, bytes spliced (never copied through the gateway's memory).
    spliced: Cell<u64>,
}

/// Relays between `client` and `backend` until the tunnel ends; `*_early` are bytes each side
/// sent right after its handshake head (already read with it).
pub async fn run<C: Duplex, B: Duplex>(
    client: &mut C,
    client_early: Vec<u8>,
    backend: &mut B,
    backend_early: Vec<u8>,
    idle: Duration,
    stop: &Stop,
) -> Totals {
    let (up, down) = (Cell::new(0), Cell::new(0));
    let spliced = Cell::new(0);
    let shared = Shared { activity: Cell::new(0), deadline: Cell::new(None), stop, idle, up, down, spliced };
    let (client_rd, client_wr) = split(client);
    let (backend_rd, backend_wr) = split(backend);
    let up = direction(client_rd, backend_wr, client_early, Toward::Backend, &shared);
    let down = direction(backend_rd, client_wr, backend_early, Toward::Client, &shared);
    let both = pin!(async { monoio::join!(up, down) });
    let watch = pin!(watch(&shared));
    let end = monoio::select! {
        (a, b) = both => match (a, b) {
            (End::Failed, _) | (_, End::Failed) => End::Failed,
            (End::Drained, _) | (_, End::Drained) => End::Drained,
            _ => End::Closed,
        },
        end = watch => end,
    };
    Totals { up: shared.up.get(), down: shared.down.get(), spliced: shared.spliced.get(), end }
}

/// Resolves when the tunnel must end without the directions' say: the idle timeout, or a side
/// that closed while the other did not follow. Wakes at least once a second to see a deadline
/// set meanwhile. Activity is seen when it wakes, so the idle end comes at most one wake
/// interval (a second, or the idle timeout if shorter) late; reads and writes need no timer of
/// their own: when this resolves, the select in [`run`] cancels them.
async fn watch(shared: &Shared<'_>) -> End {
    let (mut seen, mut since) = (shared.activity.get(), Instant::now());
    loop {
        let now = Instant::now();
        if shared.activity.get() != seen {
            (seen, since) = (shared.activity.get(), now);
        }
        let idle_due = since + shared.idle;
        if now >= idle_due {
            return End::Idle;
        }
        let linger_due = shared.deadline.get();
        if linger_due.is_some_and(|d| now >= d) {
            return End::Closed;
        }
        let due = linger_due.map_or(idle_due, |d| d.min(idle_due));
        monoio::time::sleep((due - now).min(Duration::from_secs(1)).min(shared.idle)).await;
    }
}

/// One direction: read from one side, write to the other, following the frames. Returns why it
/// stopped (the bytes relayed are counted in `shared`).
async fn direction<C: Duplex, D: Duplex>(
    mut rd: ReadHalf<'_, C>,
    mut wr: WriteHalf<'_, D>,
    mut buf: Vec<u8>,
    toward: Toward,
    shared: &Shared<'_>,
) -> End {
    let mut frames = FrameCursor::default();
    let moved = match toward {
        Toward::Backend => &shared.up,
        Toward::Client => &shared.down,
    };
    // Reads start small (an idle socket holds little) and grow while they come back full.
    let mut window = FIRST_WINDOW;
    let mut splicer = Splicer::default();
    loop {
        let stopping = shared.stop.is_fired();
        if !buf.is_empty() {
            // At the stop, what follows the current frame is not relayed.
            let n = frames.advance(&buf, stopping);
            buf.truncate(n);
            let (r, back) = wr.write_all(buf).await;
            buf = back;
            if r.is_err() {
                shared.deadline.set(Some(Instant::now()));
                return End::Failed;
            }
            moved.set(moved.get() + n as u64);
            shared.bump();
            buf.clear();
        }
        if stopping && frames.at_boundary() {
            if !frames.closed() {
                let close = match toward {
                    Toward::Client => close_to_client(GOING_AWAY),
                    Toward::Backend => close_to_server(GOING_AWAY, fastrand::u32(..).to_ne_bytes()),
                };
                let _ = monoio::time::timeout(CLOSE_WAIT, wr.write_all(close)).await;
            }
            let _ = monoio::time::timeout(CLOSE_WAIT, wr.shutdown()).await;
            read_and_drop(&mut rd, buf, CLOSE_WAIT).await;
            return End::Drained;
        }
        if frames.payload_left() >= SPLICE_AT_LEAST {
            // The rest of a large frame, kernel to kernel when both sides are plain TCP.
            match splicer.payload(&mut rd, &mut wr, frames.payload_left(), shared).await {
                Spliced::Moved(n) => {
                    frames.skip_payload(n);
                    moved.set(moved.get() + n);
                    shared.spliced.set(shared.spliced.get() + n);
                    continue;
                }
                Spliced::Closed => return closed(&mut wr, shared).await,
                Spliced::Failed => {
                    shared.deadline.set(Some(Instant::now()));
                    return End::Failed;
                }
                Spliced::NotHere => {}
            }
        }
        if buf.capacity() < window {
            buf.reserve(window);
        }
        let read = if !stopping && frames.at_boundary() {
            // Between frames, the stop may cut the wait short (the read is cancelled: what it
            // would have brought belongs to frames that are not relayed any more).
            let read = pin!(read_untimed(&mut rd, &mut buf, window));
            monoio::select! {
                r = read => Some(r),
                _ = shared.stop.wait() => None,
            }
        } else {
            Some(read_untimed(&mut rd, &mut buf, window).await)
        };
        match read {
            None => {}
            Some(Ok(n)) => {
                shared.bump();
                if n == window && window < BUF_SIZE {
                    window *= 2;
                }
            }
            Some(Err(IoFailure::Closed)) => return closed(&mut wr, shared).await,
            Some(Err(_)) => {
                shared.deadline.set(Some(Instant::now()));
                return End::Failed;
            }
        }
    }
}

impl Shared<'_> {
    fn bump(&self) {
        self.activity.set(self.activity.get().wrapping_add(1));
    }
}

/// A read with no deadline of its own (the tunnel's watch ends a silent tunnel).
async fn read_untimed<R: AsyncReadRent>(rd: &mut R, buf: &mut Vec<u8>, max: usize) -> Result<usize, IoFailure> {
    let (res, slice) = rd.read(read_window(buf, max)).await;
    *buf = slice.into_inner();
    match res {
        Ok(0) => Err(IoFailure::Closed),
        Ok(n) => Ok(n),
        Err(e) => Err(IoFailure::Io(e)),
    }
}

/// This side is done: the other hears it (FIN) and has a moment to follow.
async fn closed<W: AsyncWriteRent>(wr: &mut W, shared: &Shared<'_>) -> End {
    let _ = monoio::time::timeout(CLOSE_WAIT, wr.shutdown()).await;
    let later = Instant::now() + LINGER;
    shared.deadline.set(Some(shared.deadline.get().map_or(later, |d| d.min(later))));
    End::Closed
}

/// Frames with at least this much payload still to come are spliced (when both sides are
/// plain TCP): below it, a buffer copy costs less than the two splice operations.
const SPLICE_AT_LEAST: u64 = 64 * 1024;
/// One splice moves at most this much (the pipe's default capacity).
const SPLICE_CHUNK: u64 = 64 * 1024;

enum Spliced {
    Moved(u64),
    Closed,
    Failed,
    /// Not both plain TCP (or no pipe to be had): copy instead.
    NotHere,
}

/// A direction's pipe, made the first time a large frame passes.
#[derive(Default)]
struct Splicer {
    pipe: Option<(Pipe, Pipe)>,
    unavailable: bool,
}

impl Splicer {
    /// Moves up to `left` bytes (one pipe's worth) from `rd` to `wr` through the pipe.
    async fn payload<C: Duplex, D: Duplex>(
        &mut self,
        rd: &mut ReadHalf<'_, C>,
        wr: &mut WriteHalf<'_, D>,
        left: u64,
        shared: &Shared<'_>,
    ) -> Spliced {
        let (Some(from), Some(to)) = (rd.tcp(), wr.tcp()) else { return Spliced::NotHere };
        if self.unavailable {
            return Spliced::NotHere;
        }
        if self.pipe.is_none() {
            match monoio::net::unix::new_pipe() {
                Ok(p) => self.pipe = Some(p),
                Err(_) => {
                    self.unavailable = true; // out of descriptors, say: copying still works
                    return Spliced::NotHere;
                }
            }
        }
        let Some((pipe_out, pipe_in)) = self.pipe.as_mut() else { return Spliced::NotHere };
        let want = left.min(SPLICE_CHUNK) as u32;
        let got = match from.splice_to_pipe(pipe_in, want).await {
            Ok(0) => return Spliced::Closed,
            Ok(n) => n,
            Err(_) => return Spliced::Failed,
        };
        shared.bump();
        let mut sent = 0;
        while sent < got {
            match monoio::time::timeout(shared.idle, to.splice_from_pipe(pipe_out, got - sent)).await {
                Ok(Ok(n)) if n > 0 => sent += n,
                _ => return Spliced::Failed,
            }
        }
        shared.bump();
        Spliced::Moved(u64::from(got))
    }
}

/// Reads and drops until the peer's FIN, an error or `wait`.
async fn read_and_drop<R: AsyncReadRent>(rd: &mut R, mut buf: Vec<u8>, wait: Duration) {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        buf.clear();
        if left.is_zero() || read_more(rd, &mut buf, BUF_SIZE, left).await.is_err() {
            return;
        }
    }
}
