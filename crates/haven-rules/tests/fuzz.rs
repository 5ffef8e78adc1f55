//! Fuzzing the rule crate's readers (see `haven_test_support::fuzz` for the budget and the
//! memory cap):
//!
//! - waiver files (`haven app check --waivers`), mutated from `tests/corpus/waivers/`: they
//!   read or fail naming the file and a line of it, and a file that reads has a reason on
//!   every waiver;
//! - whole applications, mutated from `tests/corpus/app-check/`: the streaming check
//!   (`AppCheck`) finds exactly what the check over all objects finds, errors included.

use haven_model::{InputError, LoadOutcome, Source};
use haven_rules::{AppCheck, CheckOptions, apply_waivers, check, parse_waiver_file, sort_findings};
use haven_test_support::fuzz::{self, YAML_TOKENS};
use jiff::civil::date;

#[test]
fn waiver_files_read_or_fail_with_a_line() {
    let seeds = fuzz::corpus(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/waivers"));
    fuzz::run("waivers", fuzz::mutations(seeds, YAML_TOKENS), |input| {
        let text = input.text();
        let lines = fuzz::yaml_lines(&text);
        match parse_waiver_file("waivers.yaml", &text) {
            Ok(file) => match file.waivers.iter().find(|r| r.reason.trim().is_empty()) {
                Some(r) => Err(format!("a waiver without a reason was read: {r:?}")),
                None => Ok(()),
            },
            Err(errors) if errors.is_empty() => Err("failed without an error".into()),
            Err(errors) => match errors.iter().find(|e| {
                e.file != "waivers.yaml"
                    || !(1..=lines + 1).contains(&e.line)
                    || e.message.is_empty()
            }) {
                Some(e) => Err(format!("error without a place: {}", e.describe())),
                None => Ok(()),
            },
        }
    });
}

fn described(mut errors: Vec<InputError>) -> Vec<String> {
    errors.sort_by_key(InputError::describe);
    errors.iter().map(InputError::describe).collect()
}

#[test]
fn the_streaming_check_finds_what_the_whole_check_finds() {
    let seeds = fuzz::corpus(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/app-check"
    ));
    let waivers = [parse_waiver_file(
        "worker-beat.yaml",
        include_str!("corpus/waivers/worker-beat.yaml"),
    )
    .expect("the example waiver file reads")];
    let today = date(2026, 11, 25);
    fuzz::run("app-check", fuzz::mutations(seeds, YAML_TOKENS), |input| {
        let opts = CheckOptions::default();
        let source = Source::file("app.yaml", input.text().into_owned());

        let mut loaded = LoadOutcome::default();
        loaded.extend(source.load());
        let batch = check(&loaded.objects, &opts);
        let mut findings = batch.findings;
        apply_waivers(&mut findings, &loaded.objects, &waivers, today);
        sort_findings(&mut findings);
        let mut errors = loaded.errors;
        errors.extend(batch.errors);

        let mut app = AppCheck::new(&opts, None);
        app.add(source);
        let streamed = app.finish(&waivers, today);

        if streamed.findings != findings {
            return Err(format!(
                "findings differ:\n  streamed: {:#?}\n  whole: {:#?}",
                streamed.findings, findings
            ));
        }
        let (streamed_errors, errors) = (described(streamed.errors), described(errors));
        if streamed_errors != errors {
            return Err(format!(
                "errors differ:\n  streamed: {streamed_errors:#?}\n  whole: {errors:#?}"
            ));
        }
        if (streamed.objects, streamed.workloads) != (loaded.objects.len(), batch.workloads) {
            return Err(format!(
                "counts differ: streamed {} objects, {} workloads; whole {}, {}",
                streamed.objects,
                streamed.workloads,
                loaded.objects.len(),
                batch.workloads
            ));
        }
        Ok(())
    });
}
