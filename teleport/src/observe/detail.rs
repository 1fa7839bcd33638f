//! Go Teleport's detail and slow logs: one line per message on each side.
//!
//! ```text
//! CALL-> 127.0.0.1:9090 1.21ms(fast) "/math/add" SEND({"seq":1,"mtype":1,"size":7}) RECV({"seq":1,"mtype":2,"size":1,"status":"code=0"})
//! CALL<- 127.0.0.1:51874 182µs(fast) "/math/add" RECV({"seq":1,"mtype":1,"size":7}) SEND({"seq":1,"mtype":2,"size":1,"status":"code=0"})
//! PUSH-> 127.0.0.1:9090 (-) "/chat/say" SEND({"seq":2,"mtype":3,"size":4})
//! PUSH<- 127.0.0.1:51874 (-) "/chat/say" RECV({"seq":2,"mtype":3,"size":4})
//! ```
//!
//! `size` counts body bytes. With `print_detail`, each part also shows its meta as
//! `k=v&k2=v2` and its body (JSON as it is, anything else quoted), cut at `print_body_max`
//! bytes, and the lines are logged at `INFO`; without it, at `DEBUG`. With `count_time`, the
//! cost is measured (`(fast)`), and one of `slow_comet_duration` or more is logged at `WARN`
//! (`(slow)`) whatever the other settings.

use std::fmt::Write;
use std::time::Duration;

use bytes::Bytes;
use tracing::Level;

use super::TARGET_DETAIL;
use crate::codec;
use crate::message::{MessageType, Meta};
use crate::peer::PeerConfig;
use crate::status::Status;

/// Whether a line may be logged for a message of a peer with `config`: decided before a
/// sender lets go of what the line shows.
pub(super) fn wanted(config: &PeerConfig) -> bool {
    tracing::enabled!(target: TARGET_DETAIL, Level::DEBUG)
        || (config.print_detail && tracing::enabled!(target: TARGET_DETAIL, Level::INFO))
        || (slow_after(config).is_some() && tracing::enabled!(target: TARGET_DETAIL, Level::WARN))
}

fn slow_after(config: &PeerConfig) -> Option<Duration> {
    (config.count_time && !config.slow_comet_duration.is_zero())
        .then_some(config.slow_comet_duration)
}

/// One side of a message as its line shows it.
pub(super) struct Part<'a> {
    pub(super) seq: i32,
    pub(super) mtype: MessageType,
    pub(super) status: Option<&'a Status>,
    pub(super) meta: &'a Meta,
    pub(super) codec: u8,
    pub(super) body: &'a Bytes,
}

/// What one line is about.
pub(super) struct Line<'a> {
    /// `CALL->`, `CALL<-`, `PUSH->` or `PUSH<-`.
    pub(super) arrow: &'static str,
    pub(super) remote: &'a str,
    pub(super) real_ip: Option<&'a str>,
    pub(super) route: &'a str,
    /// The first part (`SEND` for a sender, `RECV` for a handler) and the second, if any.
    pub(super) first: Part<'a>,
    pub(super) second: Option<Part<'a>>,
    pub(super) cost: Option<Duration>,
}

/// Logs `line` at the level its peer's settings and its cost call for.
pub(super) fn log(config: &PeerConfig, line: &Line<'_>) {
    let slow =
        matches!((slow_after(config), line.cost), (Some(limit), Some(cost)) if cost >= limit);
    if slow {
        if tracing::enabled!(target: TARGET_DETAIL, Level::WARN) {
            let text = render(config, line, "(slow)");
            tracing::warn!(target: TARGET_DETAIL, "{text}");
        }
    } else if config.print_detail {
        if tracing::enabled!(target: TARGET_DETAIL, Level::INFO) {
            let text = render(config, line, "(fast)");
            tracing::info!(target: TARGET_DETAIL, "{text}");
        }
    } else if tracing::enabled!(target: TARGET_DETAIL, Level::DEBUG) {
        let text = render(config, line, "(fast)");
        tracing::debug!(target: TARGET_DETAIL, "{text}");
    }
}

/// The line's text.
pub(super) fn render(config: &PeerConfig, line: &Line<'_>, speed: &str) -> String {
    let mut out = String::with_capacity(128);
    out.push_str(line.arrow);
    out.push(' ');
    out.push_str(line.remote);
    if let Some(ip) = line.real_ip.filter(|ip| !line.remote.starts_with(*ip)) {
        let _ = write!(out, "(real:{ip})");
    }
    match line.cost {
        Some(cost) => {
            let _ = write!(out, " {cost:?}{speed}");
        }
        None => out.push_str(" (-)"),
    }
    let _ = write!(out, " {:?} ", line.route);
    let (first, second) =
        if line.arrow.ends_with("->") { ("SEND", "RECV") } else { ("RECV", "SEND") };
    write_part(&mut out, first, &line.first, config);
    if let Some(part) = &line.second {
        out.push(' ');
        write_part(&mut out, second, part, config);
    }
    out
}

fn write_part(out: &mut String, label: &str, part: &Part<'_>, config: &PeerConfig) {
    let _ = write!(
        out,
        "{label}({{\"seq\":{},\"mtype\":{},\"size\":{}",
        part.seq,
        part.mtype as u8,
        part.body.len()
    );
    if let Some(status) = part.status {
        let mut text = Vec::new();
        status.encode_into(&mut text);
        let _ = write!(out, ",\"status\":{:?}", String::from_utf8_lossy(&text));
    }
    if config.print_detail {
        if !part.meta.is_empty() {
            let mut text = Vec::new();
            part.meta.encode_into(&mut text);
            let _ = write!(out, ",\"meta\":{:?}", String::from_utf8_lossy(&text));
        }
        if !part.body.is_empty() {
            out.push_str(",\"body\":");
            write_body(out, part.codec, part.body, config.print_body_max);
        }
    }
    out.push_str("})");
}

/// A JSON body as it is, any other quoted; cut at `max` bytes (on a character boundary).
fn write_body(out: &mut String, codec: u8, body: &[u8], max: usize) {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let shown = &text[..end];
    if codec == codec::JSON && end == text.len() {
        out.push_str(shown);
    } else {
        let _ = write!(out, "{shown:?}");
    }
    if end < text.len() {
        let _ = write!(out, "...(+{} bytes)", text.len() - end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part<'a>(meta: &'a Meta, body: &'a Bytes, status: Option<&'a Status>) -> Part<'a> {
        Part { seq: 7, mtype: MessageType::Call, status, meta, codec: codec::JSON, body }
    }

    #[test]
    fn a_call_line_in_go_shape() {
        let mut meta = Meta::new();
        meta.add("a", "1").add("b", "x y");
        let body = Bytes::from_static(b"[1,2,3]");
        let reply = Bytes::from_static(b"6");
        let ok = Status::OK;
        let no_meta = Meta::new();
        let config = PeerConfig { print_detail: true, ..PeerConfig::default() };
        let line = Line {
            arrow: "CALL->",
            remote: "127.0.0.1:9090",
            real_ip: None,
            route: "/math/add",
            first: part(&meta, &body, None),
            second: Some(Part { mtype: MessageType::Reply, ..part(&no_meta, &reply, Some(&ok)) }),
            cost: Some(Duration::from_micros(1500)),
        };
        assert_eq!(
            render(&config, &line, "(fast)"),
            r#"CALL-> 127.0.0.1:9090 1.5ms(fast) "/math/add" SEND({"seq":7,"mtype":1,"size":7,"meta":"a=1&b=x%20y","body":[1,2,3]}) RECV({"seq":7,"mtype":2,"size":1,"status":"code=0","body":6})"#
        );
    }

    #[test]
    fn bodies_are_cut_and_meta_left_out_without_print_detail() {
        let body = Bytes::from(vec![b'x'; 40]);
        let meta = Meta::new();
        let detailed =
            PeerConfig { print_detail: true, print_body_max: 8, ..PeerConfig::default() };
        let line = Line {
            arrow: "PUSH<-",
            remote: "127.0.0.1:1",
            real_ip: Some("10.0.0.1"),
            route: "/a",
            first: Part { codec: codec::PLAIN, ..part(&meta, &body, None) },
            second: None,
            cost: None,
        };
        assert_eq!(
            render(&detailed, &line, "(fast)"),
            r#"PUSH<- 127.0.0.1:1(real:10.0.0.1) (-) "/a" RECV({"seq":7,"mtype":1,"size":40,"body":"xxxxxxxx"...(+32 bytes)})"#
        );
        assert_eq!(
            render(&PeerConfig::default(), &line, "(fast)"),
            r#"PUSH<- 127.0.0.1:1(real:10.0.0.1) (-) "/a" RECV({"seq":7,"mtype":1,"size":40})"#
        );
    }
}
