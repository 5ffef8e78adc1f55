//! Formatting helpers reproducing upstream's `helpers.go` and Go's `%q`.

use std::fmt::Write as _;

/// Upstream `pluralize`.
pub(crate) const fn pluralize<'a>(singular: &'a str, plural: &'a str, count: usize) -> &'a str {
    if count == 1 { singular } else { plural }
}

/// Upstream `joinQuote`: `"a", "b"`; items are wrapped in quotes, not escaped.
pub(crate) fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(items.iter().map(|s| s.as_ref().len() + 4).sum());
    push_join_quote(&mut out, items);
    out
}

/// [`join_quote`] appended to `out`.
fn push_join_quote<S: AsRef<str>>(out: &mut String, items: &[S]) {
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(s.as_ref());
        out.push('"');
    }
}

/// `n` in decimal, as `{}` prints it.
pub(crate) fn push_decimal(out: &mut String, n: usize) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[at..] {
        out.push(char::from(b));
    }
}

/// `strings.Join(items, sep)`.
pub(crate) fn join<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(s.as_ref());
    }
    out
}

/// Sorts and deduplicates, as `sets.NewString(...).List()` does (byte-wise order).
pub(crate) fn set_list<S: AsRef<str> + Ord>(mut items: Vec<S>) -> Vec<S> {
    items.sort_unstable();
    items.dedup_by(|a, b| a.as_ref() == b.as_ref());
    items
}

/// Go's `fmt.Sprintf("%q", s)` (`strconv.Quote`), closely: printable runes are kept, control
/// characters escaped as Go does.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `metadata.annotations["key"]` (or `.key` for a key without `.`, `/`, `[`, `]`, `"`).
pub(crate) fn annotation_path(key: &str) -> String {
    if key.contains(['.', '/', '[', ']', '"']) {
        format!("metadata.annotations[{key:?}]")
    } else {
        format!("metadata.annotations.{key}")
    }
}

/// `"container"` / `"containers"` followed by the quoted names: `containers "a", "b"`.
pub(crate) fn containers_phrase<S: AsRef<str>>(names: &[S]) -> String {
    let word = pluralize("container", "containers", names.len());
    let mut out = String::with_capacity(
        word.len() + 1 + names.iter().map(|s| s.as_ref().len() + 4).sum::<usize>(),
    );
    out.push_str(word);
    out.push(' ');
    push_join_quote(&mut out, names);
    out
}

/// `container "a"` for one name.
pub(crate) fn container_phrase(name: &str) -> String {
    containers_phrase(&[name])
}
