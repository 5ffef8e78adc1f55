//! Fuzzing the YAML readers (see `haven_test_support::fuzz` for the budget and the memory cap):
//! mutations of the seeds in `tests/corpus/yaml/`.
//!
//! - Reading a stream never panics, and every error names the file and a line of the input.
//! - Where the fast path reads a document, the full parser reads the same value, positions and
//!   notes (the fast path may give up on anything; it may never read something else).

use haven_model::readers;
use haven_model::{Origin, load_objects, parse_stream, raw_documents};
use haven_test_support::fuzz::{self, Input, YAML_TOKENS};

fn inputs() -> impl proptest::strategy::Strategy<Value = Input> {
    fuzz::mutations(
        fuzz::corpus(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/yaml")),
        YAML_TOKENS,
    )
}

/// The lines an error may name: those of the text, or one past its end (end of input).
fn line_in_range(line: u32, text: &str) -> bool {
    (1..=fuzz::yaml_lines(text) + 1).contains(&line)
}

#[test]
fn yaml_streams_read_or_fail_with_a_line() {
    fuzz::run("yaml-stream", inputs(), |input| {
        let text = input.text();
        for doc in parse_stream("f.yaml", &text) {
            match doc {
                Ok(doc) if !line_in_range(doc.line, &text) => {
                    return Err(format!(
                        "document at line {} of {}",
                        doc.line,
                        fuzz::yaml_lines(&text)
                    ));
                }
                Err(e)
                    if e.file != "f.yaml"
                        || !line_in_range(e.line, &text)
                        || e.message.is_empty() =>
                {
                    return Err(format!("error without a place: {}", e.describe()));
                }
                _ => {}
            }
        }
        let loaded = load_objects(Origin::File("f.yaml"), &text);
        if let Some(e) = loaded
            .errors
            .iter()
            .find(|e| !line_in_range(e.line, &text) || e.message.is_empty())
        {
            return Err(format!("load error without a place: {}", e.describe()));
        }
        Ok(())
    });
}

/// Compares the two readers on one document's text: where the fast path reads it, the full
/// parser reads the same value, positions and notes.
fn compare(text: &str, first_line: u32, index: usize) -> Result<(), String> {
    let Some(fast) = readers::fast(text, first_line) else {
        return Ok(());
    };
    match readers::full("f.yaml", text, first_line) {
        Ok(Some(full)) if full == fast => Ok(()),
        Ok(Some(full)) => Err(format!(
            "document {index} reads differently:\n  fast: {fast:?}\n  full: {full:?}"
        )),
        Ok(None) => Err(format!(
            "document {index}: the fast path read an empty document"
        )),
        Err(e) => Err(format!(
            "document {index}: the fast path accepts what the full parser refuses: {}",
            e.describe()
        )),
    }
}

#[test]
fn the_fast_path_reads_what_the_full_parser_reads() {
    fuzz::run("yaml-fast-vs-full", inputs(), |input| {
        let text = input.text();
        raw_documents(&text)
            .iter()
            .try_for_each(|doc| compare(doc.text, doc.first_line, doc.index))
    });
}

// The cases below were once read differently by the two readers (found by the test
// above); each is now read alike.

/// After a non-ASCII character on a line, both readers count columns in characters.
#[test]
fn columns_after_non_ascii_characters_are_counted_in_characters() {
    let text = "\u{e9}tat: {name: web}\nb: \u{1f600} # \u{e9}\n- x\n";
    assert!(readers::fast(text, 1).is_none());
    let text = "\u{e9}tat: {name: web}\nl:\n- \u{e9}\u{e9}: 0755\n";
    let fast = readers::fast(text, 1).expect("the fast path reads it");
    let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
    assert_eq!(fast, full);
    assert_eq!(fast.1.position("\u{e9}tat.name"), (1, 8));
    assert_eq!(fast.1.position("l[0].\u{e9}\u{e9}"), (3, 3));
    assert_eq!((fast.2[0].line, fast.2[0].col), (3, 7), "{:?}", fast.2);
}

/// The null of an empty sequence item sits at the end of its line in both readers.
#[test]
fn an_empty_sequence_item_has_one_position() {
    for (text, at) in [
        ("items:\n- \n- b\n", (2, 3)),
        ("items:\n-\n- b\n", (2, 2)),
        ("items:\n  -   # c\n  - b\n", (2, 10)),
        ("items:\n- \u{e9}: 1\n- \n", (3, 3)),
    ] {
        let fast = readers::fast(text, 1).expect("the fast path reads it");
        let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
        assert_eq!(fast, full, "{text:?}");
        let item = if text.contains('\u{e9}') {
            "items[1]"
        } else {
            "items[0]"
        };
        assert_eq!(fast.1.position(item), at, "{text:?}");
    }
}

/// Characters YAML does not allow, and line breaks other than `\n`: the fast path leaves the
/// document to the full parser, which reads them as YAML does.
#[test]
fn characters_yaml_does_not_allow_are_left_to_the_full_parser() {
    for text in [
        "\u{0}a: 1\n",
        "a: b\u{7f}\n",
        "a: \u{9f}\n",
        "a: \u{fffe}\n",
    ] {
        assert!(readers::fast(text, 1).is_none(), "{text:?}");
        assert!(
            readers::full("f.yaml", text, 1).is_err(),
            "the full parser refuses {text:?}"
        );
    }
    for text in ["a: b\u{85}c\n", "a: b\u{2028}c\n", "a: \u{e9}\u{feff}\n"] {
        assert!(readers::fast(text, 1).is_none(), "{text:?}");
    }
    // Allowed characters are read by both.
    let text = "a: \u{a0}x\u{fffd}\u{10000}\n";
    assert_eq!(
        readers::fast(text, 1),
        readers::full("f.yaml", text, 1).unwrap()
    );
}

/// A carriage return alone is a line break, as YAML reads it.
#[test]
fn a_lone_carriage_return_is_a_line_break() {
    let text = "s:\n  \rx: 1\n";
    assert!(readers::fast(text, 1).is_none());
    let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
    assert_eq!(full.0, serde_json::json!({"s": null, "x": 1}));
    assert!(readers::fast("a: x\ry\n", 1).is_none());
    // `\r\n` is read by the fast path as the line break it is.
    let text = "a: 1\r\nb:\r\n- x\r\n";
    assert_eq!(
        readers::fast(text, 1),
        readers::full("f.yaml", text, 1).unwrap()
    );
}

/// A tab after an implicit key's `:` separates it from its value, as go-yaml reads it (found
/// by the fuzz test above in CI: saphyr refused `kind:\tConfigMap`).
#[test]
fn a_tab_after_a_key_separates_its_value() {
    for text in [
        "kind:\tConfigMap\nmetadata: {name: a}\n",
        "items:\n- a: 1\n  kind:\t-x\n  b: \t\"q\"\n",
    ] {
        let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
        if let Some(fast) = readers::fast(text, 1) {
            assert_eq!(fast, full, "{text:?}");
        }
    }
    let full = readers::full("f.yaml", "kind:\tConfigMap\n", 1)
        .unwrap()
        .unwrap();
    assert_eq!(full.0, serde_json::json!({"kind": "ConfigMap"}));
    assert_eq!(full.1.position("kind"), (1, 1));
    // A tab after a `:` inside a value makes it a key where no key may be: go-yaml refuses it,
    // and so do both readers (the fast path once read it as part of the value).
    let text = "image: app@sha256:\t00\n";
    assert!(readers::full("f.yaml", text, 1).is_err());
    assert!(readers::fast(text, 1).is_none());
    // The tab after an explicit key's `:` is refused by go-yaml and by both readers.
    assert!(readers::full("f.yaml", "? a\n:\tb\n", 1).is_err());
    assert!(readers::fast("? a\n:\tb\n", 1).is_none());
}

/// What follows a `...` marker on its line ends nothing more: go-yaml ignores it (found by the
/// fuzz test above: the fast path read it as a key, saphyr refused it).
#[test]
fn content_after_a_document_end_marker_is_ignored() {
    for text in [
        "a: 1\n...              value: 'x'\n",
        "a: 1\n... # c\n",
        "a: 1\n...\t\n",
    ] {
        let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
        assert_eq!(full.0, serde_json::json!({"a": 1}), "{text:?}");
        if let Some(fast) = readers::fast(text, 1) {
            assert_eq!(fast, full, "{text:?}");
        }
    }
}

/// A byte order mark anywhere but at the start of the stream is an ordinary character to
/// go-yaml (part of a key or a value); saphyr refused it. The fast path leaves such documents
/// to the full parser, which reads them as go-yaml does.
#[test]
fn a_byte_order_mark_inside_a_document_is_an_ordinary_character() {
    for (text, value) in [
        ("a\u{feff}b: 1\n", serde_json::json!({"a\u{feff}b": 1})),
        (
            "a: 1\n\u{feff}b: 2\n",
            serde_json::json!({"a": 1, "\u{feff}b": 2}),
        ),
        ("a: x\u{feff}\n", serde_json::json!({"a": "x\u{feff}"})),
        ("a: [\u{feff}x]\n", serde_json::json!({"a": ["\u{feff}x"]})),
        (
            "a: |\n  x\u{feff}\n",
            serde_json::json!({"a": "x\u{feff}\n"}),
        ),
        ("a: 1 # \u{feff}\n", serde_json::json!({"a": 1})),
        // At the start of the stream it is the stream's, and dropped.
        ("\u{feff}a: 1\n", serde_json::json!({"a": 1})),
    ] {
        let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
        assert_eq!(full.0, value, "{text:?}");
        if let Some(fast) = readers::fast(text, 1) {
            assert_eq!(fast, full, "{text:?}");
        }
    }
    // Its column is counted as one character, as every other.
    let full = readers::full("f.yaml", "a: 1\n\u{feff}b: [\u{feff}x]\n", 1)
        .unwrap()
        .unwrap();
    assert_eq!(full.1.position("\u{feff}b[0]"), (2, 6));
    // A line of it alone is a key without its `:`, as go-yaml says.
    assert!(readers::full("f.yaml", "a: 1\n\u{feff}\n", 1).is_err());
}

/// Inside a flow collection go-yaml's scanner (libyaml 0.1) takes `?` and `:` as indicators
/// wherever a token starts and ends a plain scalar only at `: ` and `,?[]{}`; saphyr followed
/// YAML 1.2 (`goscan.rs`). Each document below was read or refused otherwise than go-yaml; the
/// answers are go-yaml v2.4.0's.
#[test]
fn flow_collections_are_cut_into_tokens_as_go_yaml_cuts_them() {
    use serde_json::json;
    for (text, value) in [
        ("[-, a]\n", json!(["-", "a"])),
        ("a: [a:b:]\n", json!({"a": ["a:b:"]})),
        ("[a :]\n", json!(["a :"])),
        ("{a:}\n", json!({"a:": null})),
        ("{a: b:}\n", json!({"a": "b:"})),
        ("[?x]\n", json!([{"x": null}])),
        ("[a, ?b: c]\n", json!(["a", {"b": "c"}])),
        ("{?x: 1}\n", json!({"x": 1})),
        ("[a,#c\n b]\n", json!(["a", "b"])),
        ("[a\n:b]\n", json!(["a :b"])),
        ("[\"a\":b]\n", json!([{"a": "b"}])),
        ("{a: -}\n", json!({"a": "-"})),
        ("[\na,\nA -,\n]\n", json!(["a", "A -"])),
    ] {
        let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
        assert_eq!(full.0, value, "{text:?}");
        if let Some(fast) = readers::fast(text, 1) {
            assert_eq!(fast, full, "{text:?}");
        }
    }
    for &text in fuzz::flow_documents_go_yaml_refuses() {
        assert!(readers::full("f.yaml", text, 1).is_err(), "{text:?}");
        assert!(readers::fast(text, 1).is_none(), "{text:?}");
    }
    // Columns are those of the text as written.
    let full = readers::full("f.yaml", "a: [?x, ?y]\n", 1)
        .unwrap()
        .unwrap();
    // The pair starts at its `?`, as it does in `[? x, ? y]`.
    assert_eq!(full.1.position("a[1].y"), (1, 9));
    let e = readers::full("f.yaml", "a:\n  b: [c, d ?e]\n", 1).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("(column 12)"), "{}", e.message);
}

/// A `...` marker with no document before it: go-yaml refuses it (it looks for the document's
/// node and finds the marker); the full parser read an empty document (found by the go-yaml
/// differential test).
#[test]
fn a_document_end_marker_with_no_document_is_refused() {
    for text in ["...\n", "# c\n\n...\n", "... # c\n"] {
        assert!(readers::full("f.yaml", text, 1).is_err(), "{text:?}");
        assert!(readers::fast(text, 1).is_none(), "{text:?}");
    }
    for text in ["---\n...\n", " ...\n", "a: 1\n...\n"] {
        assert!(readers::full("f.yaml", text, 1).is_ok(), "{text:?}");
    }
}

/// A `?` inside a plain scalar of a flow collection: go-yaml ends the scalar there and refuses
/// the key indicator where no entry starts; the fast path read `a? pp` as a key (found by the
/// fuzz test above once the full parser refused it as go-yaml does).
#[test]
fn a_question_mark_in_a_flow_scalar_is_left_to_the_full_parser() {
    for text in [
        "spec:\n  selector: {a? pp: web}\n",
        "a: [b?c]\n",
        "a: [?x]\n",
        "a: {?x: 1}\n",
        "a: [:x]\n",
    ] {
        assert!(readers::fast(text, 1).is_none(), "{text:?}");
    }
    assert!(readers::full("f.yaml", "spec:\n  selector: {a? pp: web}\n", 1).is_err());
    // Elsewhere `?` is content, to both readers.
    let text = "a: b?c\nd: [e, f?]\n";
    assert!(readers::fast(text, 1).is_none() || readers::full("f.yaml", text, 1).is_err());
    let text = "a: b?c\n";
    assert_eq!(
        readers::fast(text, 1).expect("the fast path reads it"),
        readers::full("f.yaml", text, 1).unwrap().unwrap()
    );
}

/// A tab after the `:` of a key in a flow mapping is the blank go-yaml needs there; saphyr
/// refused it and the fast path read it (found by the fuzz test above).
#[test]
fn a_tab_after_a_key_in_a_flow_mapping_separates_its_value() {
    for (text, value) in [
        (
            "metadata: {name:\tweb, namespace: app}\n",
            serde_json::json!({"metadata": {"name": "web", "namespace": "app"}}),
        ),
        ("[a:\tb]\n", serde_json::json!([{"a": "b"}])),
        ("{\"a\":\t-b}\n", serde_json::json!({"a": "-b"})),
    ] {
        let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
        assert_eq!(full.0, value, "{text:?}");
        if let Some(fast) = readers::fast(text, 1) {
            assert_eq!(fast, full, "{text:?}");
        }
    }
}

/// An explicit key (`? key`) may span lines, as go-yaml reads it; only implicit keys must fit
/// on one (found by the go-yaml differential test).
#[test]
fn an_explicit_key_may_span_lines() {
    for (text, value) in [
        ("? a:[\n a,\n ]\n", serde_json::json!({"a:[ a, ]": null})),
        ("? a\n  b\n: c\n", serde_json::json!({"a b": "c"})),
        ("? &k a\n  b\n: c\n", serde_json::json!({"a b": "c"})),
    ] {
        let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
        assert_eq!(full.0, value, "{text:?}");
    }
    assert!(readers::full("f.yaml", "a\n  b: c\n", 1).is_err());
    // A line at the key's own column ends it, even where a lift would indent it.
    assert!(readers::full("f.yaml", "? a:[ a,\n [ \"a\\\nb\",\n ] ]\n", 1).is_err());
}

/// An indentless sequence whose first item is empty but for a comment starts where that
/// item's null sits, in both readers (found by the fuzz test above: `command:\n- # csh`).
#[test]
fn an_indentless_sequence_after_a_commented_empty_item_has_one_position() {
    for text in [
        "command:\n- # csh\n- -c\n",
        "a:\n  command:\n  - # c\n  - x\n",
        "c:\n- #c\n",
        "items:\n- # c\n  kind: ConfigMap\n- b: 1\n",
    ] {
        let fast = readers::fast(text, 1).expect("the fast path reads it");
        let full = readers::full("f.yaml", text, 1).unwrap().unwrap();
        assert_eq!(fast, full, "{text:?}");
    }
}

/// A `#` right after a `"` that closes no quoted scalar is no comment: the lift that gives
/// `"x"# c` its blank read `a:{ "#":  }` as `a:{ "` and a comment; go-yaml refuses it, as now
/// both readers do (found by the go-yaml differential test).
#[test]
fn a_hash_after_a_quote_inside_a_plain_scalar_is_no_comment() {
    assert!(readers::full("f.yaml", "&a1 a:{ \"#\":  }\n", 1).is_err());
    assert!(readers::fast("&a1 a:{ \"#\":  }\n", 1).is_none());
    let full = readers::full("f.yaml", "a: \"x\"# c\nb: [1]#d\n", 1)
        .unwrap()
        .unwrap();
    assert_eq!(full.0, serde_json::json!({"a": "x", "b": [1]}));
}

/// go-yaml reads a document's node and no further: what it would refuse in the text it never
/// reads is not the error to report; the first place the text stops being YAML is (found by
/// the go-yaml differential test).
#[test]
fn a_flow_refusal_after_the_end_of_the_document_is_not_the_error() {
    let e = readers::full("f.yaml", "&a1 \"1\":{\na: [\n   :x,\n]\n}\n", 1).unwrap_err();
    assert!(e.line < 3, "{}", e.describe());
    let e = readers::full("f.yaml", "a:\n  b: [\n   :x,\n]\n", 1).unwrap_err();
    assert_eq!(e.line, 3, "{}", e.describe());
}

/// When the lift mends the first error and saphyr then stops further down, the error named
/// is the one further down: the text up to it is read as go-yaml reads it (found by the go-yaml
/// differential test: go-yaml reads `{"-": "ab"}` and drops the less indented line after it).
#[test]
fn an_error_the_lift_mended_is_not_the_one_reported() {
    let e = readers::full("f.yaml", " -: \"a\\\nb\"\na: !!str a\n", 1).unwrap_err();
    assert_eq!(e.line, 3, "{}", e.describe());
}
