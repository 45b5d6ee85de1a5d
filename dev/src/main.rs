//! `cargo run --release -p intaj-dev`: the local stack on its embedded defaults (README).

use intaj_dev::stack::{self, StackSettings};

#[tokio::main]
async fn main() {
    let settings = StackSettings::from_env().unwrap_or_else(|problem| {
        eprintln!("configuration error: {problem}");
        std::process::exit(2)
    });
    intaj_shared::bootstrap::init_tracing(&settings.log_level);
    let stack = match stack::start(settings).await {
        Ok(stack) => stack,
        Err(error) => {
            eprintln!("the local stack could not start: {error}");
            std::process::exit(1)
        }
    };
    println!("{}", stack::banner(&stack));
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("cannot listen for Ctrl-C ({error}); stopping");
    }
    println!("stopping…");
    stack.shutdown().await;
}
