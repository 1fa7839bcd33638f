//! Writing a message as an HTTP request (calls) or response (replies).

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use super::wire::{self, Framing};
use super::{HttpProto, MAX_META_HEADERS, unsupported};
use crate::message::{Message, MessageType, split_query};
use crate::proto::ProtoError;
use crate::xfer::XferFilter;

/// Appends `msg` as HTTP; returns whether it is the last reply of its connection. On error
/// the caller truncates what was appended.
pub(super) fn message(
    proto: &HttpProto,
    msg: &Message,
    dst: &mut BytesMut,
) -> Result<bool, ProtoError> {
    let max_frame = proto.limits.max_frame;
    let too_large = |len: usize| ProtoError::FrameTooLarge { len: len as u64, max: max_frame };
    let request = match msg.mtype {
        MessageType::Call | MessageType::AuthCall => true,
        MessageType::Reply | MessageType::AuthReply => false,
        MessageType::Push => return Err(unsupported("PUSH (HTTP has no one-way message)")),
    };
    let filter = filter(proto, msg)?;
    let failed = !request && !msg.status.is_ok();
    let closing = match (&proto.conn, request) {
        (Some(conn), false) => conn.closing_reply(msg.seq),
        _ => None,
    };
    let (body, content_type) = if failed {
        let mut json = BytesMut::new();
        wire::put_status(&msg.status, &mut json)?;
        (json.freeze(), Some("application/json"))
    } else {
        // Refuse what cannot fit before copying or compressing any of it.
        if msg.body.len() > max_frame {
            return Err(too_large(msg.body.len()));
        }
        (msg.body.clone(), wire::content_type(msg.body_codec)?)
    };
    let body = match filter {
        Some(filter) => filter.pack(body)?,
        None => body,
    };
    if body.len() > max_frame {
        return Err(too_large(body.len()));
    }

    let head_start = dst.len();
    dst.reserve(160 + msg.service_method.len() + body.len());
    let host = if request {
        start_request(msg, dst)?
    } else {
        let (code, reason) = match closing {
            _ if !failed => (200, "OK"),
            Some(true) => (413, "Content Too Large"),
            _ if proto.status_codes => wire::http_status(msg.status.code()),
            _ => (299, "Business Error"),
        };
        status_line(dst, code, reason);
        None
    };
    // Go's order: its headers sorted by name.
    if closing.is_some() {
        header(dst, Framing::Connection.name(), "close");
    }
    if filter.is_some_and(|f| f.name() == "gzip") {
        header(dst, Framing::ContentEncoding.name(), "gzip");
    }
    header(dst, Framing::ContentLength.name(), body.len());
    if let Some(content_type) = content_type {
        header(dst, Framing::ContentType.name(), content_type);
    }
    if let Some(host) = host {
        header(dst, "Host", host);
    }
    if let Some(filter) = filter {
        header(dst, Framing::XContentEncoding.name(), filter.name());
    }
    header(dst, Framing::XMtype.name(), msg.mtype as u8);
    header(dst, Framing::XSeq.name(), msg.seq);
    put_meta(proto, msg, host.is_some(), dst)?;
    dst.put_slice(b"\r\n");
    if dst.len() - head_start > proto.max_head() {
        return Err(ProtoError::HeadTooLarge { max: proto.max_head() });
    }
    dst.put_slice(&body);
    Ok(closing.is_some())
}

/// Writes the status line of a response.
fn status_line(dst: &mut BytesMut, code: u16, reason: &str) {
    // Writing to a BytesMut cannot fail: it grows.
    let _ = write!(dst, "HTTP/1.1 {code} {reason}\r\n");
}

/// The one filter of the message's pipe, if any.
fn filter<'a>(
    proto: &'a HttpProto,
    msg: &Message,
) -> Result<Option<&'a dyn XferFilter>, ProtoError> {
    msg.xfer_pipe.check(&proto.filters)?;
    match msg.xfer_pipe.ids() {
        [] => Ok(None),
        [id] => Ok(proto.filters.get(*id).map(|f| &**f)),
        ids => Err(unsupported(format!("{} transfer filters (at most one)", ids.len()))),
    }
}

/// Writes the request line; returns the host of a service method that is a whole URL.
fn start_request<'m>(msg: &'m Message, dst: &mut BytesMut) -> Result<Option<&'m str>, ProtoError> {
    let (host, rest) = match wire::split_url(&msg.service_method) {
        Some((host, rest)) => (Some(host).filter(|h| !h.is_empty()), rest),
        None => (None, msg.service_method.as_str()),
    };
    if let Some(host) = host.filter(|h| !wire::is_field_value(h)) {
        return Err(unsupported(format!("the host {host:?}")));
    }
    let (path, query) = split_query(rest);
    dst.put_slice(b"POST ");
    if !path.starts_with('/') {
        dst.put_u8(b'/');
    }
    wire::put_path(path, dst);
    if let Some(query) = query {
        dst.put_u8(b'?');
        wire::put_query(query, dst);
    }
    dst.put_slice(b" HTTP/1.1\r\n");
    Ok(host)
}

/// Writes one header per meta pair, checking names, values and the meta limits. A `Host`
/// pair gives way to the host of a URL service method.
fn put_meta(
    proto: &HttpProto,
    msg: &Message,
    has_host: bool,
    dst: &mut BytesMut,
) -> Result<(), ProtoError> {
    let (mut lines, mut len) = (0, 0);
    for (key, value) in msg.meta.iter() {
        if has_host && key.eq_ignore_ascii_case("Host") {
            continue;
        }
        if !wire::is_token(key) {
            return Err(unsupported(format!("the meta key {key:?} (not an HTTP header name)")));
        }
        if Framing::of(key).is_some() {
            return Err(unsupported(format!("the meta key {key:?} (a header it writes itself)")));
        }
        if !wire::is_field_value(value) {
            return Err(unsupported(format!("control bytes in the meta value of {key:?}")));
        }
        lines += 1;
        len += wire::line_len(key, value.as_bytes());
        header(dst, key, value);
    }
    if lines > MAX_META_HEADERS {
        return Err(ProtoError::TooManyHeaders { max: MAX_META_HEADERS });
    }
    if len > proto.limits.max_meta {
        return Err(ProtoError::MetaTooLong { len, max: proto.limits.max_meta });
    }
    Ok(())
}

/// Writes `Name: value\r\n`.
fn header(dst: &mut BytesMut, name: &str, value: impl std::fmt::Display) {
    // Writing to a BytesMut cannot fail: it grows.
    let _ = write!(dst, "{name}: {value}\r\n");
}
