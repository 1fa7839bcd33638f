use teleport as tp;
#[tp::service]
trait Api {
    fn get(&self) -> String;
    fn get_reply(&self) -> String;
}
fn main() {}
