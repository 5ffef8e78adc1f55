//! CPU cost of one admission review, without TLS or HTTP: the part of `bench/admission.sh`'s
//! gap to the null responder that the rule engine owns. Prints ns per review for each body.
//!
//!   cargo run --release -p haven-admission --example review_cost -- [--engine] BODY.json...
//!
//! `--engine` reviews with the engine decoder alone (`review_with_engine`: what the webhook
//! would cost without the fast decoder). `REVIEW_ITERATIONS` (default 20,000) sets how often
//! each body is reviewed; lower it for bodies of megabytes. Under callgrind, which counts
//! instructions whatever else runs on the machine:
//!
//!   REVIEW_ITERATIONS=200 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/review_cost [--engine] BODY.json

use std::time::Instant;

use haven_admission::review::review_with_engine;
use haven_admission::{Config, StaticNamespaces, Verdict, review};

// The same allocator as the `haven` binary, so the figures match the served webhook.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let config = Config::default();
    let namespaces = StaticNamespaces::new();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let engine = args.first().is_some_and(|a| a == "--engine");
    if engine {
        args.remove(0);
    }
    let review = if engine { review_with_engine } else { review };
    for path in args {
        let body = std::fs::read(&path).expect("read body");
        let body = String::from_utf8(body)
            .expect("utf-8")
            .replace("__UID__", "0f5a8b1e-1111-2222-3333-444455556666")
            .into_bytes();
        let iterations: u32 = std::env::var("REVIEW_ITERATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(20_000);
        let start = Instant::now();
        let mut denied = 0usize;
        for _ in 0..iterations {
            let decision = review(&body, &config, &namespaces, "haven-system").expect("valid");
            denied += usize::from(decision.verdict == Verdict::Denied);
        }
        let per = start.elapsed().as_nanos() / u128::from(iterations);
        let how = if engine { "engine" } else { "served" };
        println!("{path}: {per} ns/review, {how} ({denied} denied of {iterations})");
    }
}
