//! Small helpers shared by the renderers.

use std::fmt::Write as _;

use haven_model::{Finding, ObjectRef};
use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of the parts, each followed by a NUL so that `("ab", "c")` and
/// `("a", "bc")` differ.
pub(crate) fn sha256_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = hasher.finalize();
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// The identity of a finding that survives moving the object to another file or line:
/// rule, object (kind, namespace, name) and field path.
pub(crate) fn finding_identity(f: &Finding) -> String {
    sha256_hex(&[
        "haven-finding/v1",
        f.rule,
        &f.object.kind,
        f.object.namespace.as_deref().unwrap_or(""),
        &f.object.name,
        &f.path,
    ])
}

/// `namespace/Kind/name`, or `Kind/name` for objects without a namespace.
pub(crate) fn object_qualified_name(o: &ObjectRef) -> String {
    match &o.namespace {
        Some(ns) => format!("{ns}/{}/{}", o.kind, o.name),
        None => format!("{}/{}", o.kind, o.name),
    }
}

/// Whether a file name stands for standard input rather than a file.
pub(crate) fn is_stdin(file: &str) -> bool {
    matches!(file, "-" | "<stdin>" | "/dev/stdin" | "")
}

/// The line to point at: the field's line, else the document's, else none (0).
pub(crate) fn best_line(f: &Finding) -> u32 {
    if f.location.line > 0 {
        f.location.line
    } else {
        f.location.document_line
    }
}

/// Replaces control characters (which could move a terminal's cursor or change its colours)
/// with a visible escape such as `\u{1b}`. Tabs become a space; newlines are kept only if
/// `keep_newlines`.
pub(crate) fn printable(s: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Unicode bidirectional overrides and isolates ("Trojan Source"): shown escaped in text output.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Makes a string safe for XML 1.0 character data: characters that XML 1.0 forbids even as
/// character references (C0 controls other than tab, LF and CR; U+FFFE; U+FFFF) are replaced
/// by a visible `\u{..}` escape. `<`, `&` and quotes are left to the XML writer.
pub(crate) fn xml_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Like [`xml_safe`], for attribute values: line breaks and tabs become spaces (an XML reader
/// would turn them into spaces anyway).
pub(crate) fn xml_attr_safe(s: &str) -> String {
    xml_safe(s).replace(['\t', '\n', '\r'], " ")
}

/// The SARIF `artifactLocation.uri` for a file name as given on the command line or by the
/// renderer: relative paths stay relative (with `/` separators), absolute paths become
/// `file://` URIs; characters a URI may not hold are percent-encoded.
pub(crate) fn file_uri(file: &str) -> String {
    let path = file.replace('\\', "/");
    let bytes = path.as_bytes();
    let windows_abs =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if path.starts_with("//") {
        // UNC path: //server/share/file
        format!("file:{}", percent_encode(&path))
    } else if path.starts_with('/') {
        format!("file://{}", percent_encode(&path))
    } else if windows_abs {
        format!("file:///{}", percent_encode(&path))
    } else {
        let encoded = percent_encode(&path);
        // A relative reference whose first segment holds a colon would read as a scheme.
        match encoded.split('/').next() {
            Some(first) if first.contains(':') => format!("./{encoded}"),
            _ => encoded,
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, `/`, `:` and `@`
/// and the sub-delimiters that are harmless in a path.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b':'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            );
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `1 finding`, `2 findings`.
/// How every format names a waiver that matches everything (`all: true` in its file).
pub(crate) const ALL_WAIVER: &str = "a waiver of everything (all: true)";

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// An XML start tag with attributes made safe for XML 1.0 (shared by both JUnit writers).
pub(crate) fn xml_start<'a>(
    name: &'a str,
    attrs: &[(&str, String)],
) -> quick_xml::events::BytesStart<'a> {
    let mut el = quick_xml::events::BytesStart::new(name);
    for (k, v) in attrs {
        el.push_attribute((*k, xml_attr_safe(v).as_str()));
    }
    el
}

/// `<name attrs>body</name>`, or `<name attrs/>` when `body` is empty. Quotes need no escaping
/// in character data; `<`, `>`, `&` and `\r` do.
pub(crate) fn write_xml_text_element(
    w: &mut quick_xml::Writer<Vec<u8>>,
    name: &str,
    attrs: &[(&str, String)],
    body: &str,
) -> std::io::Result<()> {
    use quick_xml::events::{BytesEnd, BytesText, Event};
    if body.is_empty() {
        return w.write_event(Event::Empty(xml_start(name, attrs)));
    }
    w.write_event(Event::Start(xml_start(name, attrs)))?;
    let text = xml_safe(body);
    w.write_event(Event::Text(BytesText::from_escaped(
        quick_xml::escape::partial_escape(text.as_str()),
    )))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(file_uri("deploy/app.yaml"), "deploy/app.yaml");
        assert_eq!(file_uri("./deploy/app.yaml"), "./deploy/app.yaml");
        assert_eq!(
            file_uri("dir with space/ä.yaml"),
            "dir%20with%20space/%C3%A4.yaml"
        );
        assert_eq!(file_uri("/abs/x#1.yaml"), "file:///abs/x%231.yaml");
        assert_eq!(file_uri("C:\\charts\\x.yaml"), "file:///C:/charts/x.yaml");
        assert_eq!(file_uri("a:b/c.yaml"), "./a:b/c.yaml");
        assert_eq!(file_uri("100%.yaml"), "100%25.yaml");
    }

    #[test]
    fn sanitising() {
        assert_eq!(
            printable("a\u{1b}[31mb\tc\n", false),
            "a\\u{1b}[31mb c\\u{a}"
        );
        assert_eq!(printable("x\u{202e}y", true), "x\\u{202e}y");
        assert_eq!(xml_safe("a\u{0}b\u{7}\n&"), "a\\u{0}b\\u{7}\n&");
        assert_eq!(xml_attr_safe("a\nb"), "a b");
    }

    #[test]
    fn hashing_separates_parts() {
        assert_ne!(sha256_hex(&["ab", "c"]), sha256_hex(&["a", "bc"]));
        assert_eq!(sha256_hex(&[]).len(), 64);
        // Known answer: SHA-256 of a single NUL byte.
        assert_eq!(
            sha256_hex(&[""]),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "file", "files"), "1 file");
        assert_eq!(plural(0, "file", "files"), "0 files");
    }
}
