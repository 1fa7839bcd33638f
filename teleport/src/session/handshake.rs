//! Messages exchanged by connect plugins (auth...) while a session is being set up, before
//! it is open to calls and routing.

use std::time::Duration;

use tokio::sync::oneshot;

use super::{Session, call_timeout, conn_closed};
use crate::message::Message;
use crate::socket::Socket;
use crate::status::Status;

/// Kept in the store of a session whose connect plugins took a message from the other side
/// (an auth handshake), so that a later `AUTH_CALL` is refused: a session authenticates once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Handshaken;

impl Session {
    fn setup_socket(&self) -> Result<std::sync::Arc<Socket>, Status> {
        self.inner.socket.read().clone().filter(|s| !s.is_closed()).ok_or_else(conn_closed)
    }

    /// Sends `msg` on the connection being set up (its seq is assigned here, from the
    /// session's counter) and waits up to `timeout` for the message that answers it (same
    /// seq, type REPLY or AUTH_REPLY). For `post_dial` hooks; works before the session opens.
    pub async fn handshake_call(
        &self,
        mut msg: Message,
        timeout: Duration,
    ) -> Result<Message, Status> {
        let socket = self.setup_socket()?;
        msg.seq = self.next_seq();
        let (tx, rx) = oneshot::channel();
        socket.pending.insert(msg.seq, tx).map_err(|_| conn_closed())?;
        if let Err(e) = socket.send(&msg).await {
            socket.pending.take(msg.seq);
            return Err(e.into_status());
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Err(conn_closed()),
            Err(_) => {
                socket.pending.take(msg.seq);
                Err(call_timeout())
            }
        }
    }

    /// The first message the other side sent, waiting up to `timeout` (408 then). For
    /// `post_accept` hooks: until they return, nothing else is read or routed.
    pub async fn handshake_recv(&self, timeout: Duration) -> Result<Message, Status> {
        let socket = self.setup_socket()?;
        match tokio::time::timeout(timeout, socket.next_early()).await {
            Ok(Some(msg)) => {
                self.store().insert(Handshaken);
                Ok(msg)
            }
            Ok(None) => Err(conn_closed()),
            Err(_) => Err(call_timeout()),
        }
    }

    /// Writes `msg` as it is (seq included), also before the session opens.
    pub async fn handshake_send(&self, msg: &Message) -> Result<(), Status> {
        let socket = self.setup_socket()?;
        socket.send(msg).await.map(drop).map_err(|e| e.into_status())
    }
}
