//! The http protocol: Go eRPC v6's `proto/httproto`, calls as HTTP/1.1 requests.
//!
//! ```text
//! POST /math/add?x=1 HTTP/1.1            HTTP/1.1 200 OK
//! Content-Length: 5                      Content-Length: 1
//! Content-Type: application/json;...     Content-Type: application/json;charset=utf-8
//! X-Mtype: 1                             X-Mtype: 2
//! X-Seq: 1                               X-Seq: 1
//! Author: a                              Echo: a
//!
//! [1,2]                                  3
//! ```

mod conn;
mod decode;
mod encode;
mod wire;

use std::sync::Arc;

use bytes::BytesMut;

pub(crate) use conn::HttpConn;

use super::{Limits, Proto, ProtoError};
use crate::message::Message;
use crate::xfer::XferRegistry;

/// What the head may hold beyond the meta limit: the start line and the framing headers.
const HEAD_ALLOWANCE: usize = 4 << 10;
/// The most meta headers a message may carry, read or written.
pub(crate) const MAX_META_HEADERS: usize = 128;

/// Go eRPC v6's http protocol (`proto/httproto`): a call is an HTTP/1.1 request, its reply an
/// HTTP response, so that `curl -d '[1,2]' http://host/math/add` calls a teleport route.
///
/// # Calls
///
/// A CALL is written `POST <service method> HTTP/1.1` with the headers `Content-Length`,
/// `Content-Type` (from the body codec, below), `X-Mtype: 1`, `X-Seq` (decimal) and one
/// header per meta pair. A request is read whatever its method; its target's path is
/// percent-decoded (as Go's `url.Parse` does). Its query's pairs become meta, before the
/// headers, as Go's server reads them (a Go client's `/a?author=x` is meta `author` to the
/// handler), and the query also stays on the service method, for
/// [`Incoming::query`](crate::Incoming::query); it counts against the meta limit. Every header
/// other than the framing ones becomes meta, as in Go: from `curl`, `Host`, `User-Agent` and
/// `Accept` arrive as meta. A request without `X-Seq` has seq 0, as in Go; a request without
/// `X-Mtype` is a CALL; `X-Mtype: 4` makes an AUTH_CALL. A service method that is a whole
/// URL (`http://host:port/path?q`, as Go's client accepts) sends `Host: host:port`.
///
/// # Requests as HTTP users write them
///
/// A request without a body and without `Content-Type` (`GET /math/add?a=1&b=2`) takes its
/// query as its body, in the form codec: the handler's argument is built from the query by
/// the form codec's rules, and a route whose argument is `()` takes any query. The reply
/// codec is the one `Accept` names (its first media type with a codec), unless the request
/// carries `X-Accept-Body-Codec` itself; with neither, a form (from a query or a body) is
/// answered in JSON, anything else in its own codec. The choice travels as the meta
/// `X-Accept-Body-Codec`.
///
/// # Replies
///
/// A REPLY is `HTTP/1.1 200 OK` with its body, or for an error status `HTTP/1.1 299 Business
/// Error` with `Content-Type: application/json` and the status as Go writes it,
/// `{"code":1,"msg":"test error","cause":"this is test:110"}` (an absent cause is `""`, and
/// an empty cause reads as none). With [`http_status_codes`](Self::http_status_codes) an
/// error carries its HTTP status instead (404, 400, 401, 403, 429, 503, 500, 502; 408, a
/// handler out of time, is 504), the body the same. Read either way: a 299, 4xx or 5xx
/// response is an error reply, its status the JSON body's or else the HTTP code and reason.
/// A response with any other code but 200 is refused.
///
/// # Body codecs
///
/// | codec | written `Content-Type` | read from |
/// |---|---|---|
/// | `j` | `application/json;charset=utf-8` | `application/json` |
/// | `p` | `application/x-protobuf;charset=utf-8` | `application/x-protobuf` |
/// | `f` | `application/x-www-form-urlencoded;charset=utf-8` | `application/x-www-form-urlencoded` |
/// | `s` | `text/plain;charset=utf-8` | `text/plain` |
/// | `x` | `text/xml;charset=utf-8` | `text/xml` |
/// | `b` | `application/x-bincode` (ours alone) | `application/x-bincode` |
///
/// Parameters after `;` are ignored and the media type is matched in any case. A body
/// without `Content-Type`, or with an unknown one, has codec 0 (none), which a handler
/// answers with 400 unless the body is empty; codec 0 is written without `Content-Type`
/// (Go writes `text/plain`), and a codec missing from the table cannot be written.
/// `curl -d` types every body as a form; a form body that starts with `[`, `{` or `"`,
/// which no form encoder writes (they escape those bytes), is read as JSON.
///
/// # Transfer filters
///
/// At most one filter: it is named in `X-Content-Encoding` (as Go does), and a gzip filter
/// also sets `Content-Encoding: gzip`. A body with `Content-Encoding: gzip` and no
/// `X-Content-Encoding` is read through the gzip filter. The status JSON of a 299 goes
/// through the filter too, as in Go.
///
/// # Refused
///
/// A PUSH cannot be written ([`ProtoError::Unsupported`]: the runtime answers the push
/// with 104 Write Failed): HTTP has no one-way message. A message is buffered whole before
/// its content is read, so a request whose content is bad (an `X-Mtype: 3`, a meta value
/// that is not UTF-8, an unknown filter...) is [`ProtoError::BadMessage`], answered 400 Bad
/// Message, and the connection lives on; what keeps the stream from being split into
/// messages (a head that does not parse, a bad `Content-Length`, a `Transfer-Encoding`)
/// closes it. On a connection a peer's listener accepted, a `Content-Length` over the limit
/// is answered `413 Content Too Large` (with or without status codes) before any of the
/// body is read, and the connection closes after the answer; elsewhere it closes the
/// connection. Chunked (or any) `Transfer-Encoding` is refused; a body is as long as its
/// `Content-Length` (none means empty). The head (start
/// line and headers) may take [`Limits::max_meta`] plus 4 KiB, the meta headers (counted as
/// `Name: value` lines) [`Limits::max_meta`] and 128 lines, and the body
/// [`Limits::max_frame`], checked from `Content-Length` before anything is allocated for it.
/// A meta key that is not an HTTP token, one the protocol writes itself (`Connection`, `Content-Length`,
/// `Content-Type`, `Content-Encoding`, `Transfer-Encoding`, `X-Content-Encoding`, `X-Mtype`,
/// `X-Seq`), and a value holding control bytes cannot be written.
///
/// # Connections
///
/// HTTP/1.1 connections stay open for the next request. On a connection a peer's listener
/// accepted, a request with `Connection: close` (or an HTTP/1.0 one without
/// `Connection: keep-alive`) is the last one read: its reply carries `Connection: close`,
/// and the connection closes once the reply is written. That takes a state per connection,
/// which the peer gives each connection it accepts; a value given to
/// [`PeerBuilder::proto`](crate::PeerBuilder::proto) or `serve_conn_with` is shared by its
/// connections and has none: there the client closes. Replies carry their call's `X-Seq`, so a teleport or Go client may have many
/// calls in flight on one connection. A plain HTTP client should wait for each response
/// before its next request: handlers run concurrently, so pipelined requests (all seq 0)
/// may be answered out of order, which only a per-connection codec could prevent.
///
/// # Differences from Go
///
/// Go's client also sends `User-Agent: erpc-httproto/1.1` and `Accept-Encoding: gzip`;
/// ours does not, as they only become meta at the receiver. Go sorts its headers by name;
/// ours come in the order above, then the meta's (HTTP gives order no meaning), with meta
/// keys as given (Go capitalizes them) and repeated keys kept (Go keeps the last). Leading
/// and trailing spaces of a meta value are lost, as in any HTTP header. Go matches header
/// names in the case it writes them and wants the reason phrases `OK` and `Business
/// Error`; this reads names in any case and responses by their code, as HTTP intends.
#[derive(Clone, Debug, Default)]
pub struct HttpProto {
    limits: Limits,
    filters: Arc<XferRegistry>,
    status_codes: bool,
    conn: Option<Arc<HttpConn>>,
}

impl HttpProto {
    /// An http protocol with the given limits and transfer filters.
    ///
    /// A peer builds its own from its configuration (a listener with `protocol = "http"`,
    /// or [`PeerBuilder::protocol`](crate::PeerBuilder::protocol)), with the peer's limits
    /// and filters; `HttpProto::default()` has the default limits and filters, whatever
    /// the peer's are.
    pub fn new(limits: Limits, filters: Arc<XferRegistry>) -> Self {
        HttpProto { limits, filters, status_codes: false, conn: None }
    }

    /// Answers error replies with their HTTP status (404, 400, 401, 503, 500, 504 for a
    /// handler timeout...) instead of Go's `299 Business Error`, the status JSON body
    /// unchanged, so that `curl -f`, load balancers and monitors see failures. Off by
    /// default: Go's httproto clients refuse any status but 200 and 299. Reading is the
    /// same either way: a 4xx or 5xx response is an error reply.
    pub fn http_status_codes(mut self, on: bool) -> Self {
        self.status_codes = on;
        self
    }

    /// Whether error replies carry their HTTP status; see [`Self::http_status_codes`].
    pub fn has_http_status_codes(&self) -> bool {
        self.status_codes
    }

    /// This protocol for one accepted connection, with the state that closes it after
    /// the reply to a `Connection: close` request or to a body over the limit.
    pub(crate) fn for_connection(&self) -> (HttpProto, Arc<HttpConn>) {
        let conn = Arc::new(HttpConn::default());
        (HttpProto { conn: Some(conn.clone()), ..self.clone() }, conn)
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The largest head, start line and headers with their blank line.
    fn max_head(&self) -> usize {
        self.limits.max_meta.saturating_add(HEAD_ALLOWANCE)
    }
}

impl Proto for HttpProto {
    fn name(&self) -> &'static str {
        "http"
    }

    fn encode(&self, msg: &Message, dst: &mut BytesMut) -> Result<(), ProtoError> {
        let start = dst.len();
        let result = encode::message(self, msg, dst);
        match (&result, &self.conn) {
            (Err(_), _) => dst.truncate(start),
            (Ok(closes), Some(conn)) => conn.encoded(dst.len() - start, *closes),
            (Ok(_), None) => {}
        }
        result.map(drop)
    }

    fn decode(&self, src: &mut BytesMut) -> Result<Option<Message>, ProtoError> {
        decode::message(self, src)
    }
}

/// An [`ProtoError::Unsupported`] of this protocol.
fn unsupported(what: impl Into<String>) -> ProtoError {
    ProtoError::Unsupported { proto: "http", what: what.into() }
}

#[cfg(test)]
mod tests;
