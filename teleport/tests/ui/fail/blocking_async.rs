use teleport as tp;

struct Files;

#[tp::service]
impl Files {
    #[tp(blocking)]
    async fn read(&self, path: String) -> String {
        path
    }
}

fn main() {}
