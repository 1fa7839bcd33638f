//! Body encryption with XChaCha20-Poly1305, an AEAD: a tampered body, or one sealed with
//! another key, is refused and never decoded.
//!
//! Meta `X-Secure=true` marks an encrypted body. A call or push that carries it when it is
//! written is sealed; one that carries it when it is read is opened before routing, or
//! refused with `400 Bad Message` and a cause saying why. A caller asks for a sealed reply
//! with `X-Accept-Secure=true`; a sealed call asks for one implicitly (unless it says
//! `X-Accept-Secure=false`), and a handler may seal its reply by setting `X-Secure=true`.
//! Once opened, a message loses its `X-Secure` mark, so that what the handler or caller sees,
//! and what a proxy forwards, is plain.
//!
//! A sealed body is `01 | nonce (24 random bytes) | ciphertext | tag (16 bytes)`; the type of
//! the message and its codec id are authenticated with it. The route and the seq are not
//! (proxies rewrite the seq, the ignore-case plugin the route): this protects bodies, it does
//! not stop replays. Use TLS for a secure channel.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use teleport::plugin::secure::{self, Secure};
//! use teleport::{CallOptions, Peer, PeerConfig, transport::memory};
//!
//! let key = [7u8; 32]; // share a random key out of band
//! let server = Peer::builder(PeerConfig::default()).plugin(Secure::new(&key)).build()?;
//! server.route_call_fn("/echo", |_ctx, text: String| async move { Ok(text) });
//! let client = Peer::builder(PeerConfig::default()).plugin(Secure::new(&key)).build()?;
//! let (a, b) = memory::pair();
//! server.serve_conn(a).await?;
//! let session = client.serve_conn(b).await?;
//!
//! let sealed = CallOptions::new().set_meta(secure::META_SECURE, "true");
//! let reply = session.call_with::<String>("/echo", "top secret", &sealed).await?;
//! assert_eq!(reply.value, "top secret"); // sealed both ways, opened by the plugin
//! # Ok(()) }
//! ```
//!
//! Differences from Go eRPC: Go's secure plugin uses AES in ECB mode without authentication
//! and wraps the ciphertext in a message of the body codec; this one does not interoperate
//! with it. Peers that talk to each other need this plugin and the same key.

use std::sync::Arc;

use bytes::Bytes;
use chacha20poly1305::aead::array::Array;
use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305, XNonce};

use crate::context::CallCtx;
use crate::message::{Message, MessageType, Meta};
use crate::plugin::{HookResult, Plugin};
use crate::session::Session;
use crate::status::{self, Status};

/// The meta key that marks a sealed body (value `true`).
pub const META_SECURE: &str = "X-Secure";
/// The meta key by which a caller asks for a sealed reply (value `true` or `false`).
pub const META_ACCEPT_SECURE: &str = "X-Accept-Secure";

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The bytes a sealed body has beyond its plain text.
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// A key that is not 32 bytes long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a secure key is 32 bytes, not {0}")]
pub struct InvalidKey(pub usize);

/// The secure plugin, holding its key. Cheap to clone.
#[derive(Clone)]
pub struct Secure {
    cipher: Arc<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Secure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secure { .. }")
    }
}

impl Secure {
    /// A plugin sealing with this 256-bit key.
    pub fn new(key: &[u8; 32]) -> Self {
        let key = Array::from(*key);
        Secure { cipher: Arc::new(XChaCha20Poly1305::new(&key)) }
    }

    /// A plugin sealing with `key`, which must be 32 bytes long.
    pub fn from_slice(key: &[u8]) -> Result<Self, InvalidKey> {
        let key: &[u8; 32] = key.try_into().map_err(|_| InvalidKey(key.len()))?;
        Ok(Secure::new(key))
    }

    /// Seals the body of a message of type `mtype` and codec `codec`.
    pub fn seal(&self, mtype: MessageType, codec: u8, plain: &[u8]) -> Result<Bytes, Status> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| internal(format!("no randomness: {e}")))?;
        let mut out = Vec::with_capacity(OVERHEAD + plain.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let nonce = XNonce::from(nonce);
        let text = &mut out[1 + NONCE_LEN..];
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce, &aad(mtype, codec), text.into())
            .map_err(|_| internal("the body is too long to seal"))?;
        out.extend_from_slice(&tag);
        Ok(out.into())
    }

    /// Opens a body sealed by [`seal`](Self::seal) for the same type and codec.
    pub fn open(&self, mtype: MessageType, codec: u8, sealed: &[u8]) -> Result<Bytes, Status> {
        if sealed.len() < OVERHEAD {
            let cause = format!(
                "secure: the sealed body is {} bytes, shorter than its {OVERHEAD}-byte envelope",
                sealed.len()
            );
            return Err(Status::with_code(status::CODE_BAD_MESSAGE, cause));
        }
        if sealed[0] != VERSION {
            let cause = format!("secure: unknown envelope version {}", sealed[0]);
            return Err(Status::with_code(status::CODE_BAD_MESSAGE, cause));
        }
        let (nonce, rest) = sealed[1..].split_at(NONCE_LEN);
        let (text, tag) = rest.split_at(rest.len() - TAG_LEN);
        let (Ok(nonce), Ok(tag)) = (XNonce::try_from(nonce), Array::try_from(tag)) else {
            return Err(internal("envelope split"));
        };
        let mut plain = text.to_vec();
        self.cipher
            .decrypt_inout_detached(&nonce, &aad(mtype, codec), plain.as_mut_slice().into(), &tag)
            .map_err(|_| {
                let cause = "secure: the body failed authentication: tampered with, or sealed with another key";
                Status::with_code(status::CODE_BAD_MESSAGE, cause)
            })?;
        Ok(plain.into())
    }

    /// Seals `msg`'s body if its meta asks for it.
    fn seal_marked(&self, msg: &mut Message) -> HookResult {
        if is_marked(&msg.meta) {
            msg.body = self.seal(msg.mtype, msg.body_codec, &msg.body)?;
        }
        Ok(())
    }

    /// Opens `msg`'s body if it is marked sealed, and removes the mark.
    fn open_marked(&self, msg: &mut Message) -> HookResult {
        match msg.meta.get(META_SECURE) {
            None => return Ok(()),
            Some("true") => msg.body = self.open(msg.mtype, msg.body_codec, &msg.body)?,
            Some(_) => {}
        }
        msg.meta.remove(META_SECURE);
        Ok(())
    }
}

impl Plugin for Secure {
    fn name(&self) -> &str {
        "secure"
    }

    fn pre_write_call(&self, _session: &Session, msg: &mut Message) -> HookResult {
        self.seal_marked(msg)
    }

    fn pre_write_push(&self, _session: &Session, msg: &mut Message) -> HookResult {
        self.seal_marked(msg)
    }

    fn pre_write_reply(&self, ctx: &CallCtx, msg: &mut Message) -> HookResult {
        if !msg.status.is_ok() {
            return Ok(());
        }
        if ctx.input_meta().get(META_ACCEPT_SECURE) == Some("true") {
            msg.meta.set(META_SECURE, "true");
        }
        self.seal_marked(msg)
    }

    fn post_read_call_header(&self, _session: &Session, msg: &mut Message) -> HookResult {
        let sealed = is_marked(&msg.meta);
        self.open_marked(msg)?;
        if sealed && msg.meta.get(META_ACCEPT_SECURE).is_none() {
            msg.meta.set(META_ACCEPT_SECURE, "true");
        }
        Ok(())
    }

    fn post_read_push_header(&self, _session: &Session, msg: &mut Message) -> HookResult {
        self.open_marked(msg)
    }

    fn post_read_reply_header(&self, _session: &Session, msg: &mut Message) -> HookResult {
        self.open_marked(msg)
    }
}

fn is_marked(meta: &Meta) -> bool {
    meta.get(META_SECURE) == Some("true")
}

/// The data authenticated with a body: its message type and codec id.
fn aad(mtype: MessageType, codec: u8) -> [u8; 18] {
    let mut aad = *b"teleport-secure/\0\0";
    aad[16] = mtype as u8;
    aad[17] = codec;
    aad
}

fn internal(cause: impl Into<String>) -> Status {
    let cause: String = cause.into();
    Status::with_code(status::CODE_INTERNAL_SERVER_ERROR, format!("secure: {cause}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_refusals() {
        let secure = Secure::new(&[1; 32]);
        let sealed = secure.seal(MessageType::Call, b'j', b"[1,2]").unwrap();
        assert_eq!(sealed.len(), OVERHEAD + 5);
        assert_ne!(secure.seal(MessageType::Call, b'j', b"[1,2]").unwrap(), sealed, "nonce reuse");
        assert_eq!(&secure.open(MessageType::Call, b'j', &sealed).unwrap()[..], b"[1,2]");
        let refused = |s: Result<Bytes, Status>| s.unwrap_err().code();
        assert_eq!(refused(secure.open(MessageType::Push, b'j', &sealed)), 400);
        assert_eq!(refused(secure.open(MessageType::Call, b's', &sealed)), 400);
        assert_eq!(refused(Secure::new(&[2; 32]).open(MessageType::Call, b'j', &sealed)), 400);
        for at in 0..sealed.len() {
            let mut bad = sealed.to_vec();
            bad[at] ^= 1;
            assert_eq!(refused(secure.open(MessageType::Call, b'j', &bad)), 400, "byte {at}");
        }
        for len in 0..OVERHEAD {
            assert_eq!(refused(secure.open(MessageType::Call, b'j', &sealed[..len])), 400);
        }
        assert_eq!(Secure::from_slice(&[0; 31]).unwrap_err(), InvalidKey(31));
    }
}
