//! Prost messages travel wrapped in `Protobuf`.

use teleport as tp;
use tp::codec::Protobuf;

#[derive(Clone, PartialEq, prost::Message)]
struct Nums {
    #[prost(int32, repeated, tag = "1")]
    nums: Vec<i32>,
}

struct Svc;

#[tp::service(mapper = "rpc")]
impl Svc {
    fn sum(&self, nums: Protobuf<Nums>) -> Protobuf<Nums> {
        Protobuf(Nums { nums: vec![nums.nums.iter().sum()] })
    }
}

fn main() {
    assert_eq!(SvcClient::SUM, "Svc.Sum");
}
