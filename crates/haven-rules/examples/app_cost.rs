//! Where the time of `haven app check` goes, phase by phase, without output rendering:
//! splitting, parsing, and the whole two-pass check.
//!
//!   cargo run --release -p haven-rules --example app_cost -- DIR

use std::time::Instant;

use haven_model::{LoadOutcome, Source, StreamName, load_document, raw_documents};
use haven_rules::{AppCheck, CheckOptions};

// The allocator of the `haven` binary, so the figures match.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: app_cost DIR");
    let mut sources = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).expect("read");
        sources.push(Source::file(p.display().to_string(), text));
    }
    for round in 0..3 {
        let t = Instant::now();
        let mut docs = 0;
        for s in &sources {
            for d in raw_documents(&s.text) {
                docs += usize::from(d.kind_hint().is_some());
            }
        }
        let split = t.elapsed();
        let t = Instant::now();
        let mut objects = 0;
        for s in &sources {
            let stream = StreamName::new(s.origin());
            for d in raw_documents(&s.text) {
                let mut out = LoadOutcome::default();
                load_document(&stream, &d, &mut out);
                objects += out.objects.len();
            }
        }
        let parse = t.elapsed();
        let t = Instant::now();
        let opts = CheckOptions::default();
        let mut app = AppCheck::new(&opts, None);
        for s in &sources {
            app.add(s.clone());
        }
        let out = app.finish(&[], jiff::civil::date(2026, 1, 1));
        let all = t.elapsed();
        println!(
            "round {round}: {docs} docs, {objects} objects; split+hint {split:?}, parse {parse:?}, check (parse included) {all:?}, {} findings",
            out.findings.len()
        );
    }
}
