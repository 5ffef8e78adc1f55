//! Fuzzing `haven plus`'s config reader (see `haven_test_support::fuzz` for the budget and the
//! memory cap): files mutated from `tests/corpus/plus-config/` read or fail with every error
//! naming the file and a line of it; a config that reads also renders.

use haven_platform::{Catalogue, render};
use haven_test_support::fuzz::{self, YAML_TOKENS};

#[test]
fn plus_config_files_read_or_fail_with_a_line() {
    let seeds = fuzz::corpus(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/plus-config"
    ));
    let catalogue = Catalogue::builtin().expect("the built-in catalogue reads");
    fuzz::run(
        "plus-config",
        fuzz::mutations(seeds, YAML_TOKENS),
        |input| {
            let text = input.text();
            let lines = fuzz::yaml_lines(&text);
            match haven_platform::config::parse("haven-plus.yaml", &text, &catalogue) {
                Ok((config, _notes)) => {
                    let rendered = render(&config, &catalogue);
                    if rendered.files.is_empty() {
                        return Err("a config that reads renders no file".into());
                    }
                    Ok(())
                }
                Err(errors) if errors.is_empty() => Err("failed without an error".into()),
                Err(errors) => match errors.iter().find(|e| {
                    e.file != "haven-plus.yaml" || e.line > lines + 1 || e.message.is_empty()
                }) {
                    Some(e) => Err(format!("error without a place: {}", e.describe())),
                    None => Ok(()),
                },
            }
        },
    );
}
