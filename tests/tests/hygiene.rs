//! `#[service]` under a renamed crate, with no prelude, denying every warning and missing
//! docs: the generated code names only `$crate::__private` and `::core` paths.

#![no_implicit_prelude]
#![deny(warnings, missing_docs)]

extern crate std;
extern crate tp_renamed;

use std::borrow::ToOwned;
use std::string::String;
use std::vec::Vec;
use tp_renamed as tp;

/// A service whose argument and reply are plain serde types.
pub struct Hygienic;

/// An argument.
#[derive(::serde::Serialize, ::serde::Deserialize)]
pub struct Pair {
    /// Left.
    pub a: i64,
    /// Right.
    pub b: i64,
}

#[tp::service(crate = ::tp_renamed)]
impl Hygienic {
    /// Adds.
    pub async fn add(
        &self,
        ctx: &tp::CallCtx,
        pair: Pair,
    ) -> ::core::result::Result<i64, tp::Status> {
        let _ = ctx.seq();
        ::core::result::Result::Ok(pair.a + pair.b)
    }

    /// Joins.
    pub fn join(&self, parts: Vec<String>) -> String {
        parts.concat()
    }

    /// Notes.
    #[tp(push)]
    pub fn note(&self, _text: String) {}

    /// Go's separator (the user's name needs the allow; the generated ones do not).
    #[allow(non_snake_case)]
    pub fn v2__add(&self) -> i64 {
        2
    }
}

/// The same routes as a contract trait.
#[tp::service(crate = ::tp_renamed)]
pub trait Contract {
    /// Adds.
    async fn add(&self, ctx: &tp::CallCtx, pair: Pair) -> ::core::result::Result<i64, tp::Status>;

    /// Joins, by default.
    async fn join(&self, parts: Vec<String>) -> String {
        parts.concat()
    }

    /// Notes.
    #[tp(push)]
    fn note(&self, _text: String) {}

    /// Go's separator.
    #[allow(non_snake_case)]
    fn v2__add(&self) -> i64;
}

/// An implementation of the contract.
pub struct Implementation;

impl Contract for Implementation {
    async fn add(&self, ctx: &tp::CallCtx, pair: Pair) -> ::core::result::Result<i64, tp::Status> {
        let _ = ctx.seq();
        ::core::result::Result::Ok(pair.a + pair.b)
    }

    fn v2__add(&self) -> i64 {
        2
    }
}

#[test]
fn the_contract_works_without_prelude_under_a_renamed_crate() {
    let runtime = ::tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let config = <tp::PeerConfig as ::core::default::Default>::default();
        let server = tp::Peer::new(::core::clone::Clone::clone(&config)).unwrap();
        server.route(ContractServer::new(Implementation));
        let client = tp::Peer::new(config).unwrap();
        let (a, b) = tp::transport::memory::pair();
        server.serve_conn(a).await.unwrap();
        let session = client.serve_conn(b).await.unwrap();
        let sum = ContractClient::add(&session, &Pair { a: 2, b: 3 }).await.unwrap();
        ::std::assert_eq!(sum, 5);
        let joined = ContractClient::join(&session, &["a".to_owned(), "b".to_owned()]).await;
        ::std::assert_eq!(joined.unwrap(), "ab");
        ContractClient::note(&session, "hi").await.unwrap();
        let reply = ContractClient::v2__add_reply(&session).await.unwrap();
        ::std::assert_eq!(reply.value, 2);
        ::std::assert_eq!(ContractClient::V2__ADD, "/contract/v2/add");
    });
}

#[test]
fn generated_code_works_without_prelude_under_a_renamed_crate() {
    let runtime = ::tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let config = <tp::PeerConfig as ::core::default::Default>::default();
        let server = tp::Peer::new(::core::clone::Clone::clone(&config)).unwrap();
        server.route(Hygienic);
        let client = tp::Peer::new(config).unwrap();
        let (a, b) = tp::transport::memory::pair();
        server.serve_conn(a).await.unwrap();
        let session = client.serve_conn(b).await.unwrap();
        let sum = HygienicClient::add(&session, &Pair { a: 2, b: 3 }).await.unwrap();
        ::std::assert_eq!(sum, 5);
        let joined =
            HygienicClient::join(&session, &::std::vec!["a".to_owned(), "b".to_owned()]).await;
        ::std::assert_eq!(joined.unwrap(), "ab");
        HygienicClient::note(&session, &"hi".to_owned()).await.unwrap();
        ::std::assert_eq!(HygienicClient::v2__add(&session).await.unwrap(), 2);
        ::std::assert_eq!(HygienicClient::V2__ADD, "/hygienic/v2/add");
    });
}

/// A service with no routes yet.
pub struct Empty;

#[tp::service(crate = ::tp_renamed)]
impl Empty {}

/// A contract whose only method is a helper.
#[tp::service(crate = ::tp_renamed)]
pub trait Helpers {
    /// Not a route.
    #[tp(skip)]
    async fn helper(&self) -> i64 {
        1
    }
}
