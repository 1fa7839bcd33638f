//! The route names of DESIGN §4, computed by the macro and by the runtime's mapper.

#![allow(dead_code, non_snake_case)]

use teleport as tp;
use tp::mapper::{Mapper, route_name};

mod http {
    use super::tp;

    pub(crate) struct Math;

    #[tp::service]
    impl Math {
        fn add(&self) {}
        fn say_hello(&self) {}
        fn v2__add(&self) {}
    }

    pub(crate) struct Hello;

    #[tp::service]
    impl Hello {
        fn say(&self) {}
    }

    pub(crate) struct MathV2;

    #[tp::service]
    impl MathV2 {
        fn add(&self) {}
    }
}

mod rpc {
    use super::tp;

    pub(crate) struct Math;

    #[tp::service(mapper = "rpc")]
    impl Math {
        fn add(&self) {}
        fn say_hello(&self) {}
        fn v2__add(&self) {}
    }

    pub(crate) struct Hello;

    #[tp::service(mapper = "rpc")]
    impl Hello {
        fn say(&self) {}
    }

    pub(crate) struct MathV2;

    #[tp::service(mapper = "rpc")]
    impl MathV2 {
        fn add(&self) {}
    }
}

mod prefixed {
    use super::tp;

    pub(crate) struct Math;

    #[tp::service(prefix = "/v1")]
    impl Math {
        fn add(&self) {}
        #[tp(route = "/custom/name")]
        fn renamed(&self) {}
    }
}

/// The same names through the trait form.
mod contract {
    use super::tp;

    pub(crate) mod http {
        use super::tp;

        #[tp::service]
        pub(crate) trait Math {
            fn add(&self);
            fn say_hello(&self);
            fn v2__add(&self);
        }

        #[tp::service]
        pub(crate) trait Hello {
            fn say(&self);
        }

        #[tp::service]
        pub(crate) trait MathV2 {
            fn add(&self);
        }
    }

    pub(crate) mod rpc {
        use super::tp;

        #[tp::service(mapper = "rpc")]
        pub(crate) trait Math {
            fn add(&self);
            fn say_hello(&self);
            fn v2__add(&self);
        }

        #[tp::service(mapper = "rpc")]
        pub(crate) trait Hello {
            fn say(&self);
        }

        #[tp::service(mapper = "rpc")]
        pub(crate) trait MathV2 {
            fn add(&self);
        }
    }

    pub(crate) mod prefixed {
        use super::tp;

        #[tp::service(prefix = "/v1")]
        pub(crate) trait Math {
            fn add(&self);
            #[tp(route = "/custom/name")]
            fn renamed(&self);
        }
    }
}

/// The DESIGN table, by either form: (impl form, trait form, expected).
fn table() -> Vec<(&'static str, &'static str, &'static str)> {
    use contract::{http as th, rpc as tr};
    vec![
        (http::MathClient::ADD, th::MathClient::ADD, "/math/add"),
        (rpc::MathClient::ADD, tr::MathClient::ADD, "Math.Add"),
        (http::HelloClient::SAY, th::HelloClient::SAY, "/hello/say"),
        (rpc::HelloClient::SAY, tr::HelloClient::SAY, "Hello.Say"),
        (http::MathClient::SAY_HELLO, th::MathClient::SAY_HELLO, "/math/say_hello"),
        (rpc::MathClient::SAY_HELLO, tr::MathClient::SAY_HELLO, "Math.SayHello"),
        (http::MathV2Client::ADD, th::MathV2Client::ADD, "/math_v2/add"),
        (rpc::MathV2Client::ADD, tr::MathV2Client::ADD, "MathV2.Add"),
        (http::MathClient::V2__ADD, th::MathClient::V2__ADD, "/math/v2/add"),
        (rpc::MathClient::V2__ADD, tr::MathClient::V2__ADD, "Math.V2.Add"),
        (prefixed::MathClient::ADD, contract::prefixed::MathClient::ADD, "/v1/math/add"),
        (prefixed::MathClient::RENAMED, contract::prefixed::MathClient::RENAMED, "/custom/name"),
    ]
}

#[test]
fn both_forms_name_routes_alike() {
    for (by_impl, by_trait, want) in table() {
        assert_eq!((by_impl, by_trait), (want, want));
    }
}

#[test]
fn design_table_through_the_macro() {
    let table = [
        (http::MathClient::ADD, "/math/add", rpc::MathClient::ADD, "Math.Add"),
        (http::HelloClient::SAY, "/hello/say", rpc::HelloClient::SAY, "Hello.Say"),
        (
            http::MathClient::SAY_HELLO,
            "/math/say_hello",
            rpc::MathClient::SAY_HELLO,
            "Math.SayHello",
        ),
        (http::MathV2Client::ADD, "/math_v2/add", rpc::MathV2Client::ADD, "MathV2.Add"),
        (http::MathClient::V2__ADD, "/math/v2/add", rpc::MathClient::V2__ADD, "Math.V2.Add"),
    ];
    for (http, want_http, rpc, want_rpc) in table {
        assert_eq!((http, rpc), (want_http, want_rpc));
    }
}

#[test]
fn macro_and_runtime_mapper_agree() {
    for (ty, method, got) in [
        ("Math", "add", http::MathClient::ADD),
        ("Math", "say_hello", http::MathClient::SAY_HELLO),
        ("Math", "v2__add", http::MathClient::V2__ADD),
        ("MathV2", "add", http::MathV2Client::ADD),
    ] {
        assert_eq!(route_name(Mapper::Http, "", ty, method), got);
    }
    assert_eq!(route_name(Mapper::Rpc, "", "Math", "v2__add"), rpc::MathClient::V2__ADD);
}

#[test]
fn prefix_and_route_override() {
    assert_eq!(prefixed::MathClient::ADD, "/v1/math/add");
    assert_eq!(prefixed::MathClient::RENAMED, "/custom/name");
}
