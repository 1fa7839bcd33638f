//! Malformed frames, one table over every protocol: each protocol's cases (one per class of
//! fault, each with the error it must give, in `<protocol>.rs`) run through the same checks
//! here, whole and fed one byte at a time; only a broken frame boundary closes the
//! connection; a bad message between two good ones costs itself alone; the size limits hold
//! both ways. What only one protocol has (its encoder's refusals, what its peers may write)
//! is tested in its own file.

#[path = "../support/malformed.rs"]
mod malformed;
#[cfg(feature = "thrift")]
#[path = "../support/thrift_frames.rs"]
mod thrift_frames;

#[cfg(feature = "http")]
mod http;
mod json;
#[cfg(feature = "protobuf")]
mod protobuf;
mod raw;
#[cfg(feature = "thrift")]
mod thrift;

use teleport::proto::{JsonProto, Limits};
use teleport::{Proto, RawProto};

use malformed::{Case, each_gives_its_error, limits_hold, only_broken_boundaries_close};

/// A protocol of the table, with its cases and the checks it takes part in.
struct Protocol {
    /// Names the protocol in every failure.
    name: &'static str,
    proto: Box<dyn Proto>,
    cases: Vec<Case>,
    /// How many cases it has, so that none goes missing.
    count: usize,
    /// The cases that break the frame boundary, when the protocol checks them.
    boundary: Option<&'static [&'static str]>,
    /// Checks that a bad message between good ones fails alone.
    bad_message: Option<fn(&dyn Proto)>,
    /// Builds the protocol under other limits, for [`limits_hold`].
    with_limits: Option<fn(Limits) -> Box<dyn Proto>>,
}

/// Every protocol this build has.
fn protocols() -> Vec<Protocol> {
    // The features add to it.
    #[allow(unused_mut)]
    let mut all = vec![
        Protocol {
            name: "raw",
            proto: Box::new(RawProto::default()),
            cases: raw::cases(),
            count: 36,
            boundary: Some(raw::BOUNDARY_CASES),
            bad_message: Some(raw::a_bad_message_costs_itself_alone),
            with_limits: None,
        },
        Protocol {
            name: "json",
            proto: Box::new(JsonProto::default()),
            cases: json::cases(),
            count: 39,
            boundary: Some(&malformed::BOUNDARY_CASES),
            bad_message: Some(json::a_bad_message_costs_itself_alone),
            with_limits: Some(|limits| Box::new(JsonProto::new(limits, Default::default()))),
        },
    ];
    #[cfg(feature = "protobuf")]
    all.push(Protocol {
        name: "protobuf",
        proto: Box::new(teleport::proto::ProtobufProto::default()),
        cases: protobuf::cases(),
        count: 25,
        boundary: Some(&malformed::BOUNDARY_CASES),
        bad_message: Some(protobuf::a_bad_message_costs_itself_alone),
        with_limits: Some(|limits| {
            Box::new(teleport::proto::ProtobufProto::new(limits, Default::default()))
        }),
    });
    #[cfg(feature = "http")]
    all.push(Protocol {
        name: "http",
        proto: Box::new(teleport::proto::HttpProto::default()),
        cases: http::cases(),
        count: 43,
        boundary: None,
        bad_message: Some(http::a_bad_message_costs_itself_alone),
        with_limits: None,
    });
    #[cfg(feature = "thrift")]
    all.extend([
        Protocol {
            name: "thrift (binary)",
            proto: Box::new(thrift_frames::binary()),
            cases: thrift::cases(),
            count: 24,
            boundary: Some(thrift::BOUNDARY_CASES),
            bad_message: None,
            with_limits: Some(thrift::binary),
        },
        Protocol {
            name: "thrift (structs)",
            proto: Box::new(thrift_frames::structs()),
            cases: thrift::struct_cases(),
            count: 21,
            boundary: None,
            bad_message: None,
            with_limits: None,
        },
    ]);
    all
}

#[test]
fn each_malformed_frame_gives_its_error() {
    for Protocol { name, proto, cases, count, .. } in protocols() {
        each_gives_its_error(name, &*proto, &cases);
        assert_eq!(cases.len(), count, "{name}: cases");
    }
}

#[test]
fn only_a_broken_boundary_closes_the_connection() {
    for Protocol { name, proto, cases, boundary, .. } in protocols() {
        if let Some(boundary) = boundary {
            only_broken_boundaries_close(name, &*proto, &cases, boundary);
        }
    }
}

#[test]
fn a_bad_message_costs_itself_alone() {
    for Protocol { proto, bad_message, .. } in protocols() {
        if let Some(check) = bad_message {
            check(&*proto);
        }
    }
}

#[test]
fn limits_hold_both_ways() {
    for Protocol { with_limits, .. } in protocols() {
        if let Some(make) = with_limits {
            limits_hold(make);
        }
    }
}
