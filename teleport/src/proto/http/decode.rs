//! Reading an HTTP request (a call) or response (a reply) into a message.

use bytes::{Bytes, BytesMut};
use httparse::{EMPTY_HEADER, Header};

use super::wire::{self, Framing};
use super::{HttpProto, MAX_META_HEADERS, unsupported};
use crate::codec;
use crate::message::{Message, MessageType, Meta, MetaError, split_query};
use crate::proto::ProtoError;
use crate::proto::frame::Heard;
use crate::xfer::XferPipe;

/// The most the decoder reserves beyond what is buffered while a body is incomplete.
const MAX_RESERVE_AHEAD: usize = 64 << 10;
/// What a response starts with; anything else is a request (Go decides the same way).
const RESPONSE: &[u8] = b"HTTP/";
/// The meta key that picks a reply's body codec (`context::META_ACCEPT_BODY_CODEC`).
const ACCEPT_BODY_CODEC: &str = "X-Accept-Body-Codec";

/// The start line.
#[derive(Clone, Copy)]
enum Start<'b> {
    /// A request; `version` is the minor HTTP version (0 for HTTP/1.0).
    Request {
        target: &'b str,
        version: u8,
    },
    Response {
        code: u16,
        reason: &'b str,
    },
}

/// What a head says, owned, beyond the message it starts.
struct Read {
    msg: Message,
    /// The HTTP code and reason of an error response; its body holds the status.
    failed: Option<(u16, String)>,
    body_codec: u8,
    /// The reply codec a request's `Accept` asks for.
    accept: Option<u8>,
}

/// A whole head: its start line, length and headers.
struct Head<'b, 'h> {
    start: Start<'b>,
    len: usize,
    headers: &'h [Header<'b>],
}

/// The framing headers of a head, and the size of the others (the meta).
#[derive(Default)]
struct Fields<'b> {
    content_length: Option<&'b [u8]>,
    content_type: Option<&'b [u8]>,
    content_encoding: Option<&'b [u8]>,
    x_content_encoding: Option<&'b [u8]>,
    mtype: Option<&'b [u8]>,
    seq: Option<&'b [u8]>,
    /// `Connection: close` was sent.
    close: bool,
    /// `Connection: keep-alive` was sent.
    keep_alive: bool,
    /// The bytes the meta headers take.
    meta_len: usize,
}

/// Takes one whole request or response from the front of `src`, or returns `Ok(None)` and
/// leaves its content as it is until one is buffered.
pub(super) fn message(
    proto: &HttpProto,
    src: &mut BytesMut,
) -> Result<Option<Message>, ProtoError> {
    if proto.conn.as_ref().is_some_and(|conn| conn.read_last()) {
        // Nothing after the last request is read: the connection closes once it is answered.
        src.clear();
        return Ok(None);
    }
    if src.len() < RESPONSE.len() && RESPONSE.starts_with(src) {
        return Ok(None);
    }
    let mut storage = [EMPTY_HEADER; MAX_META_HEADERS + 16];
    let Some(Head { start, len: head_len, headers }) = parse(proto, src, &mut storage)? else {
        return Ok(None);
    };
    let fields = fields(proto, headers)?;
    let body_len = match fields.content_length.map(|t| content_length(t, proto.limits.max_frame)) {
        Some(Ok(len)) => len,
        Some(Err(e @ ProtoError::FrameTooLarge { .. })) => {
            let is_request = matches!(start, Start::Request { .. });
            let seq = fields.seq.and_then(|t| seq(t).ok()).unwrap_or(0);
            return Err(too_large(proto, is_request, seq, src, e));
        }
        Some(Err(e)) => return Err(e),
        None => 0,
    };
    let max = proto.limits.max_frame;
    let Some(total) = head_len.checked_add(body_len) else {
        return Err(ProtoError::FrameTooLarge { len: body_len as u64, max });
    };
    if src.len() < total {
        // Room for what is likely to come next, not for all that the head announces.
        src.reserve((total - src.len()).min(MAX_RESERVE_AHEAD));
        return Ok(None);
    }
    // The whole message is buffered: whatever fails from here on fails it alone.
    let mut heard = Heard::default();
    if let (Some(conn), Start::Request { version, .. }) = (&proto.conn, start) {
        if fields.close || (version == 0 && !fields.keep_alive) {
            conn.close_after(fields.seq.and_then(|t| seq(t).ok()).unwrap_or(0), false);
        }
    }
    let typed = fields.content_type.is_some();
    let is_request = matches!(start, Start::Request { .. });
    let head = message_head(proto, start, &fields, headers, &mut heard);
    let mut body = src.split_to(total).freeze().split_off(head_len);
    let Read { mut msg, failed, body_codec, accept } = head.map_err(|e| heard.fault(e))?;
    let fault = |e| heard.fault(e);
    if !msg.xfer_pipe.is_empty() {
        body = msg
            .xfer_pipe
            .unpack(&proto.filters, body, proto.limits.max_frame)
            .map_err(|e| fault(e.into()))?;
    }
    match failed {
        Some((299, _)) => msg.status = wire::read_status(&body).map_err(fault)?,
        Some((code, reason)) => msg.status = wire::read_http_error(code, &reason, &body),
        None => {
            msg.body_codec = body_codec;
            // `curl -d` calls every body a form; no form encoder starts one with these.
            if msg.body_codec == codec::FORM && matches!(body.first(), Some(b'[' | b'{' | b'"')) {
                msg.body_codec = codec::JSON;
            }
            if is_request {
                body = query_body(&mut msg, body, typed);
                reply_codec(&mut msg, accept);
            }
            msg.body = body;
        }
    }
    Ok(Some(msg))
}

/// A request without a body or `Content-Type` (`GET /math/add?a=1&b=2`): its query is the
/// body, in the form codec, so the handler's argument is built from it.
fn query_body(msg: &mut Message, body: Bytes, typed: bool) -> Bytes {
    match msg.raw_query() {
        Some(query) if body.is_empty() && !typed && !query.is_empty() => {
            let body = Bytes::copy_from_slice(query.as_bytes());
            msg.body_codec = codec::FORM;
            body
        }
        _ => body,
    }
}

/// Picks the reply codec of a request that does not name one in `X-Accept-Body-Codec`: the
/// one its `Accept` asks for, else JSON for a form (few replies can be written as a form;
/// an HTTP client wants JSON), else the runtime's rule (the call's own codec).
fn reply_codec(msg: &mut Message, accept: Option<u8>) {
    if msg.meta.get(ACCEPT_BODY_CODEC).is_some() {
        return;
    }
    let form = (msg.body_codec == codec::FORM).then_some(codec::JSON);
    if let Some(codec) = accept.or(form) {
        msg.meta.add(ACCEPT_BODY_CODEC, codec.to_string());
    }
}

/// A request whose `Content-Length` is over the limit, on a server connection: it is
/// answered 413 without reading its body, and the connection closes after the answer
/// (nothing more is read from it). Elsewhere the stream cannot be read on.
fn too_large(
    proto: &HttpProto,
    is_request: bool,
    seq: i32,
    src: &mut BytesMut,
    error: ProtoError,
) -> ProtoError {
    let Some(conn) = proto.conn.as_ref().filter(|_| is_request) else { return error };
    conn.close_after(seq, true);
    src.clear();
    ProtoError::BadMessage {
        seq: Some(seq),
        mtype: Some(MessageType::Call),
        error: Box::new(error),
    }
}

/// The message a whole head describes, without its body: the message, whether it is an
/// error reply (its body then holds the status), and the body codec.
fn message_head(
    proto: &HttpProto,
    start: Start<'_>,
    fields: &Fields<'_>,
    headers: &[Header<'_>],
    heard: &mut Heard,
) -> Result<Read, ProtoError> {
    heard.seq = Some(fields.seq.map_or(Ok(0), seq)?);
    // A request is a call whatever its X-Mtype says, and is answered; a response replies.
    let (default, failed) = match start {
        Start::Request { .. } => (MessageType::Call, None),
        Start::Response { code, reason } => (
            MessageType::Reply,
            (code == 299 || (400..600).contains(&code)).then(|| (code, reason.to_owned())),
        ),
    };
    heard.mtype = Some(default);
    let seq = heard.seq.unwrap_or_default();
    let mtype = mtype(fields.mtype, default)?;
    let mut msg = match start {
        Start::Request { target, .. } => {
            if !matches!(mtype, MessageType::Call | MessageType::AuthCall) {
                return Err(ProtoError::Malformed(format!(
                    "a request carrying a {}",
                    mtype.name()
                )));
            }
            let mut msg = Message::new(mtype, seq, service_method(target)?);
            query_meta(proto, fields, &mut msg)?;
            msg
        }
        Start::Response { code, .. } => {
            if !matches!(mtype, MessageType::Reply | MessageType::AuthReply) {
                return Err(ProtoError::Malformed(format!(
                    "a response carrying a {}",
                    mtype.name()
                )));
            }
            if code != 200 && failed.is_none() {
                return Err(unsupported(format!("the HTTP status {code}")));
            }
            Message::new(mtype, seq, "")
        }
    };
    msg.xfer_pipe = pipe(proto, fields)?;
    for header in headers.iter().filter(|h| Framing::of(h.name).is_none()) {
        let value = std::str::from_utf8(header.value)
            .map_err(|_| ProtoError::BadMeta(MetaError::NotUtf8))?;
        msg.meta.add(header.name, value);
    }
    let body_codec = fields.content_type.map_or(codec::NONE, wire::codec_of);
    let accept = match start {
        Start::Request { .. } => headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("Accept"))
            .and_then(|h| wire::accepted_codec(h.value)),
        Start::Response { .. } => None,
    };
    Ok(Read { msg, failed, body_codec, accept })
}

/// Adds the pairs of a request's query to its meta, before its headers, as Go's httproto
/// does (a Go client's `?author=a` is meta `author` to the handler); the query stays on the
/// service method too, for `CallCtx::query`. It counts against the meta limit.
fn query_meta(proto: &HttpProto, fields: &Fields<'_>, msg: &mut Message) -> Result<(), ProtoError> {
    let Some(query) = msg.raw_query().filter(|q| !q.is_empty()) else { return Ok(()) };
    let len = fields.meta_len + query.len();
    if len > proto.limits.max_meta {
        return Err(ProtoError::MetaTooLong { len, max: proto.limits.max_meta });
    }
    let pairs = Meta::decode(query.as_bytes()).map_err(ProtoError::BadMeta)?;
    msg.meta = pairs;
    Ok(())
}

/// Parses the head: `None` while it is incomplete and within the limit.
fn parse<'b, 'h>(
    proto: &HttpProto,
    src: &'b [u8],
    storage: &'h mut [Header<'b>],
) -> Result<Option<Head<'b, 'h>>, ProtoError> {
    let parsed = if src.starts_with(RESPONSE) {
        let mut response = httparse::Response::new(storage);
        match response.parse(src) {
            Ok(httparse::Status::Complete(len)) => {
                let code = response.code.unwrap_or_default();
                let start = Start::Response { code, reason: response.reason.unwrap_or_default() };
                Ok(Some(Head { start, len, headers: &*response.headers }))
            }
            Ok(httparse::Status::Partial) => Ok(None),
            Err(e) => Err(e),
        }
    } else {
        let mut request = httparse::Request::new(storage);
        match request.parse(src) {
            Ok(httparse::Status::Complete(len)) => {
                let target = request.path.unwrap_or_default();
                let start = Start::Request { target, version: request.version.unwrap_or(1) };
                Ok(Some(Head { start, len, headers: &*request.headers }))
            }
            Ok(httparse::Status::Partial) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let parsed = parsed.map_err(|e| match e {
        httparse::Error::TooManyHeaders => ProtoError::TooManyHeaders { max: MAX_META_HEADERS },
        e => ProtoError::Malformed(format!("HTTP head: {e}")),
    })?;
    let seen = parsed.as_ref().map_or(src.len(), |head| head.len);
    if seen > proto.max_head() {
        return Err(ProtoError::HeadTooLarge { max: proto.max_head() });
    }
    Ok(parsed)
}

/// Sorts the framing headers out and checks the meta limits on the others.
fn fields<'b>(proto: &HttpProto, headers: &[Header<'b>]) -> Result<Fields<'b>, ProtoError> {
    let mut fields = Fields::default();
    let (mut lines, mut len) = (0, 0);
    for header in headers {
        let slot = match Framing::of(header.name) {
            None => {
                lines += 1;
                len += wire::line_len(header.name, header.value);
                continue;
            }
            Some(Framing::Connection) => {
                fields.close |= wire::has_token(header.value, "close");
                fields.keep_alive |= wire::has_token(header.value, "keep-alive");
                continue;
            }
            Some(Framing::TransferEncoding) => {
                let value = String::from_utf8_lossy(header.value);
                return Err(unsupported(format!("Transfer-Encoding {value:?}")));
            }
            Some(Framing::ContentLength) => &mut fields.content_length,
            Some(Framing::ContentType) => &mut fields.content_type,
            Some(Framing::ContentEncoding) => &mut fields.content_encoding,
            Some(Framing::XContentEncoding) => &mut fields.x_content_encoding,
            Some(Framing::XMtype) => &mut fields.mtype,
            Some(Framing::XSeq) => &mut fields.seq,
        };
        if slot.replace(header.value).is_some() {
            return Err(ProtoError::Malformed(format!("more than one {} header", header.name)));
        }
    }
    if lines > MAX_META_HEADERS {
        return Err(ProtoError::TooManyHeaders { max: MAX_META_HEADERS });
    }
    if len > proto.limits.max_meta {
        return Err(ProtoError::MetaTooLong { len, max: proto.limits.max_meta });
    }
    fields.meta_len = len;
    Ok(fields)
}

/// Reads `Content-Length`, refusing one over the limit before anything is allocated for it.
fn content_length(text: &[u8], max: usize) -> Result<usize, ProtoError> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        let text = String::from_utf8_lossy(text);
        return Err(ProtoError::Malformed(format!("bad Content-Length {text:?}")));
    }
    let len =
        text.iter().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')));
    let len = len.unwrap_or(u64::MAX);
    match usize::try_from(len) {
        Ok(len) if len <= max => Ok(len),
        _ => Err(ProtoError::FrameTooLarge { len, max }),
    }
}

/// Reads `X-Mtype` (a decimal byte); `default` when absent. A PUSH is refused.
fn mtype(text: Option<&[u8]>, default: MessageType) -> Result<MessageType, ProtoError> {
    let Some(text) = text else { return Ok(default) };
    let value = std::str::from_utf8(text).ok().filter(|t| t.bytes().all(|b| b.is_ascii_digit()));
    let value = value.and_then(|t| t.parse::<u8>().ok()).ok_or_else(|| {
        ProtoError::Malformed(format!("bad X-Mtype {:?}", String::from_utf8_lossy(text)))
    })?;
    match MessageType::from_u8(value).ok_or(ProtoError::UnknownMessageType(value))? {
        MessageType::Push => Err(unsupported("PUSH (HTTP has no one-way message)")),
        mtype => Ok(mtype),
    }
}

/// Reads `X-Seq`: decimal with an optional sign, within i32, as Go's `strconv.Atoi`.
fn seq(text: &[u8]) -> Result<i32, ProtoError> {
    let lossy = || String::from_utf8_lossy(text).into_owned();
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ProtoError::BadSeq(lossy()));
    }
    let n =
        digits.iter().try_fold(0i64, |n, d| n.checked_mul(10)?.checked_add(i64::from(d - b'0')));
    let n = n.map(|n| if negative { -n } else { n });
    n.and_then(|n| i32::try_from(n).ok()).ok_or_else(|| ProtoError::SeqOutOfRange(lossy()))
}

/// The service method of a request target: the path percent-decoded, the query as it came,
/// the fragment dropped; a whole URL (absolute form) gives its path.
fn service_method(target: &str) -> Result<String, ProtoError> {
    let target = target.split_once('#').map_or(target, |(before, _)| before);
    let url = wire::split_url(target);
    let (path, query) = split_query(url.map_or(target, |(_, rest)| rest));
    let mut method = match path {
        "" if url.is_some() => "/".to_owned(),
        _ if path.starts_with('/') => wire::decode_path(path.as_bytes())?,
        _ => return Err(ProtoError::Malformed(format!("request target {target:?} is not a path"))),
    };
    if let Some(query) = query {
        method.push('?');
        method.push_str(query);
    }
    Ok(method)
}

/// The transfer pipe the headers name: the filter in `X-Content-Encoding`, else gzip for
/// `Content-Encoding: gzip`.
fn pipe(proto: &HttpProto, fields: &Fields<'_>) -> Result<XferPipe, ProtoError> {
    let name: &[u8] = match (fields.x_content_encoding, fields.content_encoding) {
        (Some(name), _) => name,
        (None, None) => return Ok(XferPipe::new()),
        (None, Some(coding)) if coding.eq_ignore_ascii_case(b"identity") => {
            return Ok(XferPipe::new());
        }
        (None, Some(coding)) if coding.eq_ignore_ascii_case(b"gzip") => b"gzip",
        (None, Some(coding)) => {
            let coding = String::from_utf8_lossy(coding);
            return Err(unsupported(format!("Content-Encoding {coding:?}")));
        }
    };
    let id = std::str::from_utf8(name).ok().and_then(|name| proto.filters.id_of(name));
    let id = id.ok_or_else(|| {
        unsupported(format!("the transfer filter {:?}", String::from_utf8_lossy(name)))
    })?;
    Ok(XferPipe::from_ids(&[id])?)
}
