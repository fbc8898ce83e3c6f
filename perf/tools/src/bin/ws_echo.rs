//! A WebSocket echo origin for the perf lab: every text or binary message comes back as it
//! came; pings are answered. One thread (a tokio current-thread runtime), so it can share a
//! core with the load generator and leave the other to the proxy under test.
//!
//!     ws_echo [--listen 127.0.0.1:0]      prints `PORT <n>` once listening

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(&args.listen).await?;
        println!("PORT {}", listener.local_addr()?.port());
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(serve(stream));
        }
    })
}

async fn serve(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let config =
        WebSocketConfig { max_message_size: Some(64 << 20), max_frame_size: Some(64 << 20), ..Default::default() };
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else { return };
    while let Some(Ok(msg)) = ws.next().await {
        let echo = match msg {
            Message::Text(_) | Message::Binary(_) => msg,
            Message::Close(_) => break,
            _ => continue, // pings are answered by the library on the next write/flush
        };
        if ws.send(echo).await.is_err() {
            break;
        }
    }
}
