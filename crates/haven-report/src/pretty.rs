//! serde_json's pretty layout (two spaces per level), with each line break and its indentation
//! written in one piece.
//!
//! `serde_json::ser::PrettyFormatter` writes the indentation one level at a time: a finding of
//! the JSON report is about twenty lines three or four levels deep, so a large report made
//! millions of two-byte writes into its buffer. The output is byte for byte the same (a test
//! compares them).

use std::io;

use serde_json::ser::Formatter;

/// A line break followed by enough indentation for the deepest level written in one piece.
const BREAK: &[u8] = b"\n                                                                ";
/// Spaces per level, as in `serde_json::to_writer_pretty`.
const STEP: usize = 2;

/// The formatter; use [`to_writer_pretty`].
#[derive(Debug, Default)]
pub(crate) struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    /// `\n` and the indentation of the current level.
    fn line_break<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        let width = self.level * STEP;
        if let Some(piece) = BREAK.get(..=width) {
            return writer.write_all(piece);
        }
        writer.write_all(BREAK)?;
        for _ in BREAK.len() - 1..width {
            writer.write_all(b" ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line_break(writer)?;
        }
        writer.write_all(bracket)
    }

    fn item<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.line_break(writer)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `serde_json::to_writer_pretty`, with [`Pretty`].
pub(crate) fn to_writer_pretty<W: io::Write, T: ?Sized + serde::Serialize>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, Pretty::default());
    value.serialize(&mut ser)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn ours(v: &serde_json::Value) -> String {
        let mut out = Vec::new();
        super::to_writer_pretty(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_what_serde_json_pretty_writes() {
        // Empty and nested containers, every scalar kind, escapes, and nesting deeper than
        // the indentation written in one piece (40 levels = 80 spaces > 64).
        let mut deep = json!({"leaf": [1, {}, []]});
        for i in 0..40 {
            deep = if i % 2 == 0 {
                json!({ "k": deep, "n": i })
            } else {
                json!([deep, null, "x"])
            };
        }
        let samples = [
            json!(null),
            json!([]),
            json!({}),
            json!({"a": [], "b": {}, "c": [[]], "d": [{}], "e": [{"f": {}}]}),
            json!({"s": "quote \" backslash \\ newline \n tab \t nul \u{0} é 😀", "t": true, "f": false,
                   "i": -3, "u": 18446744073709551615u64, "x": 1.5, "n": null}),
            json!([1, [2, [3, [4]]], {"a": {"b": {"c": {"d": [5]}}}}]),
            deep,
        ];
        for v in &samples {
            assert_eq!(ours(v), serde_json::to_string_pretty(v).unwrap(), "{v}");
        }
    }
}
