use teleport as tp;

struct Chat;

#[tp::service]
impl Chat {
    #[tp(push, idempotent)]
    fn say(&self, text: String) {
        let _ = text;
    }
}

fn main() {}
