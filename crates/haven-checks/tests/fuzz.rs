//! Fuzzing `haven check`'s readers (see `haven_test_support::fuzz` for the budget and the
//! memory cap): `--config` files mutated from `tests/corpus/check-config/` and `--waivers`
//! files from `tests/corpus/check-waivers/` read or fail with errors that name the file and a
//! line of it.

use haven_checks::{CheckConfig, parse_waivers};
use haven_model::InputError;
use haven_test_support::fuzz::{self, YAML_TOKENS};

/// At least one error, each naming `file` and a line of `text` (or the end of it).
fn placed(errors: &[InputError], file: &str, text: &str) -> Result<(), String> {
    let lines = fuzz::yaml_lines(text);
    if errors.is_empty() {
        return Err("failed without an error".into());
    }
    match errors
        .iter()
        .find(|e| e.file != file || !(1..=lines + 1).contains(&e.line) || e.message.is_empty())
    {
        Some(e) => Err(format!("error without a place: {}", e.describe())),
        None => Ok(()),
    }
}

#[test]
fn check_config_files_read_or_fail_with_a_line() {
    let seeds = fuzz::corpus(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/check-config"
    ));
    fuzz::run(
        "check-config",
        fuzz::mutations(seeds, YAML_TOKENS),
        |input| {
            let text = input.text();
            match CheckConfig::with_overrides("config.yaml", &text) {
                Ok(_) => Ok(()),
                Err(e) => placed(&e.errors, "config.yaml", &text),
            }
        },
    );
}

#[test]
fn check_waiver_files_read_or_fail_with_a_line() {
    let seeds = fuzz::corpus(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/check-waivers"
    ));
    let known = haven_checks::catalogue::check_names();
    fuzz::run(
        "check-waivers",
        fuzz::mutations(seeds, YAML_TOKENS),
        |input| {
            let text = input.text();
            match parse_waivers("waivers.yaml", &text, &known) {
                Ok(list) => match list.waivers.iter().find(|w| w.reason.trim().is_empty()) {
                    Some(w) => Err(format!("a waiver without a reason was read: {w:?}")),
                    None => Ok(()),
                },
                Err(errors) => placed(&errors, "waivers.yaml", &text),
            }
        },
    );
}
