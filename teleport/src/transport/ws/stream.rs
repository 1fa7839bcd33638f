//! WebSocket messages as a byte stream: the read and write halves of a [`Conn`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::transport::Conn;
use crate::transport::setup::{self, Parts};

/// The most bytes one message carries; a larger write goes out as several messages.
const WRITE_CHUNK: usize = 1 << 20;
/// The largest message (and WebSocket frame) accepted from the other side.
const MAX_MESSAGE: usize = 16 << 20;

/// The WebSocket settings of both sides.
/// The read buffer of each connection. tungstenite's default (128 KiB) is zero-filled on
/// every read, which cost a fifth of a WebSocket server's CPU in the benchmark and most of
/// its memory per session; RPC frames are small, and larger messages still arrive whole.
const READ_BUFFER: usize = 16 << 10;

pub(super) fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
        .read_buffer_size(READ_BUFFER)
}

fn io_error(e: tokio_tungstenite::tungstenite::Error) -> io::Error {
    match e {
        tokio_tungstenite::tungstenite::Error::Io(e) => e,
        e => io::Error::other(e),
    }
}

/// Splits an upgraded connection into the halves of a [`Conn`].
pub(super) fn conn_of<S>(ws: WebSocketStream<S>, parts: Parts) -> Conn
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sink, stream) = ws.split();
    let reader = Box::new(WsReader { stream, pending: Bytes::new() });
    setup::conn_of(reader, Box::new(WsWriter { sink }), parts)
}

/// Reads the payloads of data messages one after the other; a close message or the end of
/// the connection is the end of the stream.
struct WsReader<S> {
    stream: SplitStream<WebSocketStream<S>>,
    pending: Bytes,
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsReader<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(buf.remaining());
                buf.put_slice(&self.pending.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match ready!(self.stream.poll_next_unpin(cx)) {
                Some(Ok(Message::Binary(data))) => self.pending = data,
                Some(Ok(Message::Text(text))) => self.pending = text.into(),
                Some(Ok(Message::Close(_))) | None => return Poll::Ready(Ok(())),
                // Pings are answered by tungstenite itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Err(e)) => return Poll::Ready(Err(io_error(e))),
            }
        }
    }
}

/// Sends each write as one binary message (the write loop writes whole frames, batched).
struct WsWriter<S> {
    sink: SplitSink<WebSocketStream<S>, Message>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WsWriter<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(self.sink.poll_ready_unpin(cx)).map_err(io_error)?;
        let n = buf.len().min(WRITE_CHUNK);
        let message = Message::Binary(Bytes::copy_from_slice(&buf[..n]));
        self.sink.start_send_unpin(message).map_err(io_error)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.sink.poll_flush_unpin(cx).map_err(io_error)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.sink.poll_close_unpin(cx).map_err(io_error)
    }
}
