//! Protocols the connection switches to after an HTTP/1.1 exchange: WebSocket, for the APIs of
//! type `websocket`. The handshake is an ordinary request through the whole lifecycle (its
//! policies are the API's `onHandshake` operation's); the backend's `101 Switching Protocols`
//! is relayed (with the outbound edits), then the connection becomes a [`tunnel`] until either
//! side closes, the idle timeout, or the drain's end.

pub mod frames;
pub mod tunnel;

use super::backend::Answer;
use super::exchange::Exchange;
use super::failure::Failure;
use super::seam::{ClientSide, Relayed};
use crate::policy::ResponseEdits;

/// Relays the backend's `101` and runs the tunnel; the connection never carries on after it.
pub async fn tunnel<C: ClientSide>(
    x: &mut Exchange<'_, C>,
    mut answer: Answer<'_>,
    edits: Option<&ResponseEdits>,
) -> bool {
    let Some(mut conn) = answer.conn.take() else { return false };
    let mut out = x.core.buf();
    let head = Relayed { head: &answer.head, bytes: &answer.ubuf, edits };
    if let Err(error) = x.client.upgrade_head(&mut out, &head, &x.req, &x.rec.id) {
        drop(out);
        x.fail(&Failure::ResponseHead { error, by_policy: edits.is_some() }).await;
        return false;
    }
    if !x.send(&mut out).await {
        return false;
    }
    drop(out);
    let core = x.core;
    let backend_early = answer.ubuf.get(answer.head.len..).unwrap_or_default().to_vec();
    let t = &core.tunnels;
    t.active.set(t.active.get() + 1);
    t.opened.set(t.opened.get() + 1);
    let idle = core.settings.idle_timeout;
    let (client_io, client_early) = x.client.upgrade();
    let totals = tunnel::run(client_io, client_early, &mut conn.io, backend_early, idle, &t.stop).await;
    t.active.set(t.active.get() - 1);
    t.bytes_up.set(t.bytes_up.get() + totals.up);
    t.bytes_down.set(t.bytes_down.get() + totals.down);
    t.bytes_spliced.set(t.bytes_spliced.get() + totals.spliced);
    // The handshake's access-log line is written now, at close: its duration is the session's,
    // its byte counts include the tunnel's.
    x.rec.request_bytes += totals.up;
    x.rec.response_bytes += totals.down;
    tracing::debug!(
        worker = core.id,
        up = totals.up,
        down = totals.down,
        end = totals.end.as_str(),
        "websocket closed"
    );
    false
}
