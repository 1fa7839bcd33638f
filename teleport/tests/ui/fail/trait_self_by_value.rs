use teleport as tp;
#[tp::service]
trait Store {
    fn take(self, key: String) -> String;
}
fn main() {}
