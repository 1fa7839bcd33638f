use teleport as tp;
struct NotSerde;
#[tp::service]
trait Math {
    fn add(&self, arg: NotSerde);
}
fn main() {}
