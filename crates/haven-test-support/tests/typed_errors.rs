//! Library crates return typed errors (`thiserror` enums matched by variant), never
//! `Result<_, String>` (issue #27, "Typed errors"): this scan of every library crate's `src/`
//! fails when one comes back. The `haven` binary (`haven-cli`), binaries under `src/bin/` and
//! test-only modules (`#[cfg(test)] mod x { … }` and the files of `#[cfg(test)] mod x;`) are
//! not scanned; the remaining exceptions are listed in [`ALLOWED`] with why, and the test fails
//! when one of them no longer holds one (so the list stays true).

use std::path::{Path, PathBuf};

/// `(file, why)`: files allowed to hold `Result<_, String>`.
const ALLOWED: &[(&str, &str)] = &[(
    "crates/haven-test-support/src/fuzz.rs",
    "the fuzzing harness: a property's failure is the message the harness prints with its \
         input; haven-test-support is only ever a dev-dependency",
)];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/haven-test-support is two levels below the workspace root")
        .to_path_buf()
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The `Result<…>` types of `text` whose last type argument is `String`: (line, the type).
fn string_results(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find("Result") {
        let start = from + at;
        from = start + "Result".len();
        // A whole identifier: not `TestResult`, `ResultSet`.
        let before_ok = start == 0 || !is_ident(bytes[start - 1]);
        let mut i = from;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if !before_ok || bytes.get(i) != Some(&b'<') {
            continue;
        }
        // The top-level arguments between the brackets.
        let mut depth = 0usize;
        let mut args = vec![String::new()];
        let mut end = None;
        for (j, &b) in bytes.iter().enumerate().skip(i) {
            match b {
                b'<' | b'(' | b'[' => {
                    depth += 1;
                    if depth == 1 {
                        continue;
                    }
                }
                // `->` inside a closure type is not a closing bracket.
                b'>' if j > 0 && bytes[j - 1] == b'-' => {}
                b'>' | b')' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                b',' if depth == 1 => {
                    args.push(String::new());
                    continue;
                }
                _ => {}
            }
            if let Some(last) = args.last_mut() {
                last.push(b as char);
            }
        }
        let Some(end) = end else { continue };
        // A trailing comma leaves an empty last argument.
        if args.len() > 1 && args.last().is_some_and(|a| a.trim().is_empty()) {
            args.pop();
        }
        let error: String = args
            .last()
            .map(|a| a.chars().filter(|c| !c.is_whitespace()).collect())
            .unwrap_or_default();
        if args.len() >= 2 && matches!(error.as_str(), "String" | "std::string::String") {
            let line = text[..start].matches('\n').count() + 1;
            found.push((line, text[start..=end].split_whitespace().collect()));
        }
    }
    found
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `text` without its inline `#[cfg(test)] mod x { … }` modules, and the names of the
/// `#[cfg(test)] mod x;` modules it declares (whose files are test-only).
fn without_test_modules(text: &str) -> (String, Vec<String>) {
    let mut kept = String::with_capacity(text.len());
    let mut declared = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        kept.push_str(&rest[..at]);
        let mut after = rest[at + "#[cfg(test)]".len()..].trim_start();
        // Further attributes of the same item.
        while after.starts_with("#[") {
            let close = after.find(']').map_or(after.len(), |c| c + 1);
            after = after[close..].trim_start();
        }
        let item = after
            .strip_prefix("pub(crate) ")
            .or_else(|| after.strip_prefix("pub "))
            .unwrap_or(after);
        let Some(module) = item.strip_prefix("mod ") else {
            // A test-only function or import: scanned like any other code.
            kept.push_str("#[cfg(test)]");
            rest = &rest[at + "#[cfg(test)]".len()..];
            continue;
        };
        let name_len = module.bytes().take_while(|b| is_ident(*b)).count();
        let name = &module[..name_len];
        let body = module[name_len..].trim_start();
        if let Some(inner) = body.strip_prefix(';') {
            declared.push(name.to_owned());
            rest = inner;
        } else if body.starts_with('{') {
            let mut depth = 0usize;
            let mut end = body.len();
            for (i, b) in body.bytes().enumerate() {
                match b {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &body[end..];
        } else {
            rest = body;
        }
    }
    kept.push_str(rest);
    (kept, declared)
}

/// The files of module `name` declared in `file`: `name.rs` and everything under `name/`.
fn module_paths(file: &Path, name: &str) -> (PathBuf, PathBuf) {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let parent = file.parent().unwrap_or(Path::new(""));
    let base = if matches!(stem, "mod" | "lib" | "main") {
        parent.to_path_buf()
    } else {
        parent.join(stem)
    };
    (base.join(format!("{name}.rs")), base.join(name))
}

#[test]
fn no_library_crate_returns_string_errors() {
    let root = workspace_root();
    let mut files = Vec::new();
    let crates = root.join("crates");
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        if dir.file_name().is_some_and(|n| n == "haven-cli") {
            continue;
        }
        let src = dir.join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    files.sort();
    assert!(files.len() > 100, "scanned only {} files", files.len());
    // Test-only files: those of `#[cfg(test)] mod x;` declarations.
    let mut test_files: Vec<PathBuf> = Vec::new();
    let mut test_dirs: Vec<PathBuf> = Vec::new();
    let mut texts = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let (kept, declared) = without_test_modules(&text);
        for name in declared {
            let (f, d) = module_paths(file, &name);
            test_files.push(f);
            test_dirs.push(d);
        }
        texts.push(kept);
    }
    assert!(
        test_files
            .iter()
            .any(|f| f.ends_with("haven-rules/src/rule_tests.rs")),
        "the scan no longer sees `#[cfg(test)] mod rule_tests;`"
    );
    let mut offending = Vec::new();
    let mut allowed_seen = Vec::new();
    for (file, text) in files.iter().zip(&texts) {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let test_only = rel.contains("/src/bin/")
            || test_files.contains(file)
            || test_dirs.iter().any(|d| file.starts_with(d));
        if test_only {
            continue;
        }
        let hits = string_results(text);
        if hits.is_empty() {
            continue;
        }
        if ALLOWED.iter().any(|(f, _)| *f == rel) {
            allowed_seen.push(rel);
            continue;
        }
        for (line, ty) in hits {
            offending.push(format!("{rel}:{line}: {ty}"));
        }
    }
    assert!(
        offending.is_empty(),
        "library crates return typed errors (a `thiserror` enum in the crate, with `#[source]` \
         for what caused it), not `Result<_, String>`:\n  {}",
        offending.join("\n  ")
    );
    for (file, why) in ALLOWED {
        assert!(
            allowed_seen.iter().any(|s| s == file),
            "{file} is allowed a `Result<_, String>` ({why}) but holds none: remove it from ALLOWED"
        );
    }
}

/// The scan itself finds what it is for, and only that.
#[test]
fn the_scan_finds_string_results() {
    let text = "fn a() -> Result<(), String> {}\n\
                fn b() -> Result<BTreeMap<String, String>, String> {}\n\
                type C = Result<\n    Option<(Value, Vec<u8>)>,\n    std::string::String,\n>;\n\
                fn d(f: impl Fn(&X) -> Result<R, String>) {}\n\
                fn e() -> Result<String, MyError> {}\n\
                fn f() -> io::Result<String> {}\n\
                fn g() -> TestResult<u8, String> {}\n\
                fn h() -> Result<String, &'static str> {}\n";
    let lines: Vec<usize> = string_results(text).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [1, 2, 3, 7]);
    let (kept, declared) = without_test_modules(
        "fn a() {}\n#[cfg(test)]\nmod tests {\n    fn b() -> Result<(), String> { {} }\n}\n\
         #[cfg(test)]\n#[path = \"x.rs\"]\npub(crate) mod helpers;\n\
         #[cfg(test)]\nfn c() -> Result<(), String> {}\n",
    );
    assert_eq!(declared, ["helpers"]);
    assert_eq!(string_results(&kept).len(), 1, "{kept}");
    assert!(!kept.contains("fn b"), "{kept}");
}
