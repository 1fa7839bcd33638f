//! [`Service`]: a set of routes registered together, as `#[service]` generates them; and
//! the traits that generated code checks the types of a route with.

use std::sync::Arc;

use serde::Serialize;

use crate::codec::EncodeBody;
use crate::manifest::ServiceManifest;
use crate::peer::Peer;
use crate::router::Group;
use crate::status::Status;

/// A set of routes registered together. `#[teleport::service]` implements it for an impl
/// block, and for the `{Trait}Server` wrapper of a service trait; implement it by hand to
/// bundle hand-routed handlers.
pub trait Service: Send + Sync + 'static {
    /// Registers every route of the service in `group`; route names are relative to the
    /// group's prefix.
    fn register(self: Arc<Self>, group: &Group);

    /// The service's description: its routes, their kinds, types and docs, served at
    /// [`MANIFEST_ROUTE`](crate::manifest::MANIFEST_ROUTE). `#[service]` generates it; the
    /// default, for services written by hand, is none.
    fn manifest(&self) -> Option<ServiceManifest> {
        None
    }
}

impl Group {
    /// Registers every route of `service` in this group.
    pub fn route<S: Service>(&self, service: S) -> &Self {
        self.route_arc(Arc::new(service))
    }

    /// Registers every route of a shared `service` in this group.
    pub fn route_arc<S: Service>(&self, service: Arc<S>) -> &Self {
        if let Some(manifest) = service.manifest() {
            self.describe(manifest);
        }
        service.register(self);
        self
    }
}

impl Peer {
    /// Registers every route of `service` at the root (no prefix).
    pub fn route<S: Service>(&self, service: S) -> &Self {
        self.root().route(service);
        self
    }
}

/// A value that is written on the wire exactly as a `T` is, so a client stub taking a `T`
/// accepts it by reference: `&T` itself, `&str` for a `String`, `&[U]` or `&[U; N]` for a
/// `Vec<U>`.
///
/// ```
/// use teleport::EncodeAs;
///
/// fn takes_names(_: &(impl EncodeAs<Vec<String>> + ?Sized)) {}
/// fn takes_key(_: &(impl EncodeAs<String> + ?Sized)) {}
///
/// takes_key("k");
/// takes_key(&"k".to_owned());
/// takes_names(&["a".to_owned()]);
/// takes_names(&vec!["a".to_owned()]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a `{T}` argument",
    label = "expected a reference to `{T}`",
    note = "a stub takes `&T` for an argument `T`; `&str` for `String`; `&[U]` or `&[U; N]` for `Vec<U>`"
)]
pub trait EncodeAs<T: ?Sized> {
    /// What is encoded: the value itself, or a view of it that encodes as `T` does.
    type Body: EncodeBody + ?Sized;

    /// The view of `self` to encode.
    fn as_body(&self) -> &Self::Body;
}

impl<T: EncodeBody + ?Sized> EncodeAs<T> for T {
    type Body = T;

    fn as_body(&self) -> &T {
        self
    }
}

impl EncodeAs<String> for str {
    type Body = str;

    fn as_body(&self) -> &str {
        self
    }
}

impl EncodeAs<String> for &str {
    type Body = str;

    fn as_body(&self) -> &str {
        self
    }
}

impl<T: Serialize> EncodeAs<Vec<T>> for [T] {
    type Body = [T];

    fn as_body(&self) -> &[T] {
        self
    }
}

// An array is a tuple to serde (no length on some codecs): it is sent as the slice it holds.
impl<T: Serialize, const N: usize> EncodeAs<Vec<T>> for [T; N] {
    type Body = [T];

    fn as_body(&self) -> &[T] {
        self
    }
}

/// The error type `E` of a route method's `Result` becomes the reply's status. Generated
/// code checks it at the user's type, so a missing conversion is reported there.
#[diagnostic::on_unimplemented(
    message = "`{E}` cannot become a reply status",
    label = "`Status` has no `From<{E}>`",
    note = "implement `From<{E}> for teleport::Status`, or return `Result<T, Status>` and map the error: `.map_err(Status::from_error)?` takes any `Display` error (`std::io::Error`, `anyhow::Error`...)"
)]
pub trait ReplyError<E> {
    /// The status of `error`.
    fn from_reply_error(error: E) -> Self;
}

impl<E> ReplyError<E> for Status
where
    Status: From<E>,
{
    fn from_reply_error(error: E) -> Status {
        Status::from(error)
    }
}

/// What a route method's `Result` under another name (an alias such as
/// `anyhow::Result<T>`) becomes: the reply value or the error as a [`Status`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a reply: its error type does not convert into `teleport::Status`",
    label = "the error type needs `Into<Status>`",
    note = "implement `From<YourError> for teleport::Status`, or return `Result<T, Status>` and map the error: `.map_err(Status::from_error)?` takes any `Display` error (`std::io::Error`, `anyhow::Error`...)"
)]
pub trait IntoReply<T> {
    /// The value, or the error as a status.
    fn into_reply(self) -> Result<T, Status>;
}

impl<T, E> IntoReply<T> for Result<T, E>
where
    Status: ReplyError<E>,
{
    fn into_reply(self) -> Result<T, Status> {
        self.map_err(Status::from_reply_error)
    }
}
