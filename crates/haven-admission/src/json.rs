//! The fast path's JSON reader: a `serde::Deserializer` over a `str` that accepts a subset of
//! what `serde_json` accepts and, on that subset, hands every visitor exactly the calls and
//! values `serde_json` would.
//!
//! Why: on the fast path, reading the request is most of a review, and most of that was
//! `serde_json`'s per-token work (finding the end of each short string and key, its
//! `Read`/scratch machinery, its lax skipping that the fast path then had to redo strictly).
//! This reader does the same job for the JSON an API server sends, in fewer steps:
//!
//! - The body is a `str`, checked for UTF-8 once; strings are borrowed when they have no
//!   escapes, unescaped into a scratch buffer otherwise, as `serde_json` does
//!   (`visit_borrowed_str` / `visit_str`).
//! - Skipping (`IgnoredAny`, unknown keys of the generated decoders, [`Raw`]) checks what a
//!   full `serde_json::Value` parse checks, so the fast path needs no pre-scan: the engine path
//!   parses the whole object into a `Value`.
//! - Whatever it is not sure to read exactly as `serde_json` does is an error, and an error on
//!   the fast path hands the request to the engine path, which then gives the answer. So the
//!   reader may be stricter than `serde_json`, never laxer: numbers other than integers of at
//!   most 18 digits (fractions, exponents, `-0`, which `serde_json` turns into floats whose last
//!   bit depends on its algorithm), `\u` escapes of surrogates (possibly lone), nesting deeper
//!   than 100 (`serde_json` allows 128), structs written as arrays, byte strings, enums, and
//!   map keys read as anything but strings. An API server sends none of these in the objects
//!   the fast path reads.
//!
//! `tests/fast_path.rs` compares the fast path with the engine path (which reads with
//! `serde_json`) response for response on fixtures and thousands of mutated requests; the tests
//! below compare this reader with `serde_json` value for value.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// Nesting deeper than this is an error (`serde_json`'s limit is 128).
const MAX_DEPTH: u32 = 100;
/// Integers longer than this are an error: 18 digits always fit `u64` and, negated, `i64`.
const MAX_DIGITS: usize = 18;
/// The struct name [`Raw`] asks for, which the reader answers with the value's text.
const RAW: &str = "$haven::json::Raw";

/// Why the reader stopped. The fast path does not show it: it gives way to the engine path,
/// whose error (if any) is the one the client sees.
#[derive(Debug)]
pub(crate) struct Error(Box<str>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string().into_boxed_str())
    }
}

fn error(msg: &str) -> Error {
    Error(msg.into())
}

/// Reads one `T` from `text`, with nothing but whitespace after it.
pub(crate) fn from_str<'de, T: de::Deserialize<'de>>(text: &'de str) -> Result<T, Error> {
    let mut reader = Reader::new(text);
    let value = T::deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// The text of a JSON value, checked as [`Reader`] skips values (as a full parse checks it).
/// Read only by [`Reader`]: any other deserializer fails on it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'de>(pub &'de str);

impl<'de: 'a, 'a> de::Deserialize<'de> for Raw<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Raw<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a raw JSON value, read by the fast path's reader")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Raw<'a>, E> {
                Ok(Raw(s))
            }
        }
        d.deserialize_newtype_struct(RAW, V(std::marker::PhantomData))
    }
}

/// The reader: a position in the text and the nesting depth.
pub(crate) struct Reader<'de> {
    text: &'de str,
    pos: usize,
    depth: u32,
    /// Unescaped strings, reused.
    scratch: String,
}

/// A string as read: borrowed from the text, or unescaped into the scratch buffer.
enum Str<'de> {
    Borrowed(&'de str),
    Scratch,
}

impl<'de> Reader<'de> {
    pub(crate) fn new(text: &'de str) -> Self {
        Reader {
            text,
            pos: 0,
            depth: 0,
            scratch: String::new(),
        }
    }

    /// Only whitespace is left.
    pub(crate) fn end(&mut self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(error("trailing characters")),
        }
    }

    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not JSON whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\n' | b'\t' | b'\r' => self.pos += 1,
                _ => return Some(b),
            }
        }
        None
    }

    /// Consumes `word` (`null`, `true` or `false`), the cursor on its first letter.
    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        if self.bytes()[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(error("invalid literal"))
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error("nesting too deep for the fast path"));
        }
        Ok(())
    }

    /// An integer, the cursor on its first byte (`-` or a digit): `Ok(Ok(u))` for a
    /// non-negative one, `Ok(Err(i))` for a negative one, as `serde_json` visits them.
    fn integer(&mut self) -> Result<Result<u64, i64>, Error> {
        let bytes = self.bytes();
        let negative = bytes[self.pos] == b'-';
        let start = self.pos + usize::from(negative);
        let mut end = start;
        let mut value = 0u64;
        while let Some(&b) = bytes.get(end) {
            if !b.is_ascii_digit() {
                break;
            }
            value = value * 10 + u64::from(b - b'0');
            end += 1;
            if end - start > MAX_DIGITS {
                return Err(error("an integer too long for the fast path"));
            }
        }
        let digits = end - start;
        if digits == 0 || (digits > 1 && bytes[start] == b'0') {
            return Err(error("invalid number"));
        }
        if matches!(bytes.get(end), Some(b'.' | b'e' | b'E')) {
            return Err(error("a number that is not an integer"));
        }
        self.pos = end;
        if !negative {
            return Ok(Ok(value));
        }
        if value == 0 {
            // `serde_json` reads `-0` as the float -0.0.
            return Err(error("negative zero"));
        }
        // At most 18 digits: below 2^63.
        Ok(Err(-(value as i64)))
    }

    /// A string, the cursor after its opening quote. The common case (no escapes) is small
    /// enough to inline into every caller; escapes take [`Reader::unescape`].
    #[inline(always)]
    fn string(&mut self) -> Result<Str<'de>, Error> {
        let start = self.pos;
        let end = next_special(self.bytes(), start);
        if self.bytes().get(end) == Some(&b'"') {
            self.pos = end + 1;
            return Ok(Str::Borrowed(&self.text[start..end]));
        }
        self.unescape(start, end)
    }

    /// The rest of [`Reader::string`]: the string from `start`, whose first special byte is at
    /// `i`, unescaped into the scratch buffer.
    #[inline(never)]
    fn unescape(&mut self, start: usize, mut i: usize) -> Result<Str<'de>, Error> {
        let bytes = self.bytes();
        self.scratch.clear();
        self.scratch.push_str(&self.text[start..i]);
        loop {
            match bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Str::Scratch);
                }
                Some(b'\\') => {}
                Some(_) => return Err(error("control character in a string")),
                None => return Err(error("unterminated string")),
            }
            i = self.escape(i + 1, true)?;
            let from = i;
            i = next_special(bytes, i);
            self.scratch.push_str(&self.text[from..i]);
        }
    }

    /// A string skipped (escapes checked, not unescaped), the cursor after its opening quote.
    fn skip_string(&mut self) -> Result<(), Error> {
        let bytes = self.bytes();
        let mut i = self.pos;
        loop {
            i = next_special(bytes, i);
            match bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(());
                }
                Some(b'\\') => i = self.escape(i + 1, false)?,
                Some(_) => return Err(error("control character in a string")),
                None => return Err(error("unterminated string")),
            }
        }
    }

    /// The escape whose letter is at `i`, pushed to the scratch buffer when `unescape`; the
    /// position after it.
    fn escape(&mut self, i: usize, unescape: bool) -> Result<usize, Error> {
        let bytes = self.bytes();
        let c = match bytes.get(i) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\x08',
            Some(b'f') => '\x0c',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hex = bytes
                    .get(i + 1..i + 5)
                    .ok_or_else(|| error("unterminated escape"))?;
                let mut code = 0u32;
                for &h in hex {
                    let digit = (h as char)
                        .to_digit(16)
                        .ok_or_else(|| error("invalid \\u escape"))?;
                    code = code * 16 + digit;
                }
                // Surrogates: pairs or lone, either way not for the fast path.
                let c = char::from_u32(code)
                    .ok_or_else(|| error("a surrogate escape, not for the fast path"))?;
                if unescape {
                    self.scratch.push(c);
                }
                return Ok(i + 5);
            }
            _ => return Err(error("invalid escape")),
        };
        if unescape {
            self.scratch.push(c);
        }
        Ok(i + 1)
    }

    /// Skips one value, checking it as a full parse would (within this reader's subset).
    fn skip_value(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.skip_string()
            }
            Some(b'n') => self.literal(b"null"),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'-' | b'0'..=b'9') => self.integer().map(drop),
            Some(b'[') => {
                self.pos += 1;
                self.enter()?;
                let mut first = true;
                while self.more(&mut first, b']')? {
                    self.skip_value()?;
                }
                self.close();
                Ok(())
            }
            Some(b'{') => {
                self.pos += 1;
                self.enter()?;
                let mut first = true;
                while self.more(&mut first, b'}')? {
                    if self.peek() != Some(b'"') {
                        return Err(error("expected a key"));
                    }
                    self.pos += 1;
                    self.skip_string()?;
                    self.colon()?;
                    self.skip_value()?;
                }
                self.close();
                Ok(())
            }
            Some(_) => Err(error("expected a value")),
            None => Err(error("unexpected end")),
        }
    }

    /// Whether another element or entry follows in a sequence or map (its comma consumed), or
    /// the `close` byte is next. A comma before the close (trailing) leaves the cursor on the
    /// close, where the element or key then fails.
    #[inline]
    fn more(&mut self, first: &mut bool, close: u8) -> Result<bool, Error> {
        match self.peek() {
            Some(b) if b == close => Ok(false),
            Some(b',') if !*first => {
                self.pos += 1;
                Ok(true)
            }
            _ if *first => {
                *first = false;
                Ok(true)
            }
            _ => Err(error("expected `,` or the end of a sequence or map")),
        }
    }

    /// Consumes the closing byte [`Reader::more`] stopped on, and leaves the level.
    fn close(&mut self) {
        self.pos += 1;
        self.depth -= 1;
    }

    fn colon(&mut self) -> Result<(), Error> {
        if self.peek() == Some(b':') {
            self.pos += 1;
            Ok(())
        } else {
            Err(error("expected `:`"))
        }
    }

    #[inline(always)]
    fn visit_string<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        match self.string()? {
            Str::Borrowed(s) => visitor.visit_borrowed_str(s),
            Str::Scratch => visitor.visit_str(&self.scratch),
        }
    }

    /// A sequence, the cursor on its `[`: visited, then closed (elements the visitor left
    /// unread are an error, as in `serde_json`).
    fn visit_seq<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.pos += 1;
        self.enter()?;
        let value = visitor.visit_seq(Seq {
            reader: self,
            first: true,
        })?;
        if self.peek() != Some(b']') {
            return Err(error("expected `]`"));
        }
        self.close();
        Ok(value)
    }

    /// A map, the cursor on its `{`; see [`Reader::visit_seq`].
    fn visit_map<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        self.pos += 1;
        self.enter()?;
        let value = visitor.visit_map(Map {
            reader: self,
            first: true,
        })?;
        if self.peek() != Some(b'}') {
            return Err(error("expected `}`"));
        }
        self.close();
        Ok(value)
    }
}

/// The index of the first byte from `i` on that ends a run of plain string bytes (`"`, `\`
/// or a control character), or `bytes.len()`. Eight bytes at a time.
#[inline]
fn next_special(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let zero = |x: u64| x.wrapping_sub(ONES) & !x;
        // The lowest flagged byte is exact (higher ones may be borrows): bytes below 0x20
        // (ASCII only, as `!word` clears the high bit of the others), `"` and `\`.
        let mask = (word.wrapping_sub(ONES * 0x20) & !word
            | zero(word ^ (ONES * u64::from(b'"')))
            | zero(word ^ (ONES * u64::from(b'\\'))))
            & HIGH;
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// Numbers are visited as `deserialize_any` visits them (`visit_u64` or `visit_i64`, which the
/// primitive visitors range-check, as with `serde_json`); anything else is an error before any
/// visitor call, as in `serde_json`.
macro_rules! number_only {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.peek() {
                Some(b'-' | b'0'..=b'9') => self.deserialize_any(visitor),
                _ => Err(error("expected a number")),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for &mut Reader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                self.visit_string(visitor)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            Some(b't') => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            Some(b'-' | b'0'..=b'9') => match self.integer()? {
                Ok(u) => visitor.visit_u64(u),
                Err(i) => visitor.visit_i64(i),
            },
            Some(b'[') => self.visit_seq(visitor),
            Some(b'{') => self.visit_map(visitor),
            Some(_) => Err(error("expected a value")),
            None => Err(error("unexpected end")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek() != Some(b'"') {
            return Err(error("expected a string"));
        }
        self.pos += 1;
        self.visit_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.peek();
        self.literal(b"null")?;
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == RAW {
            self.peek();
            let start = self.pos;
            self.skip_value()?;
            return visitor.visit_borrowed_str(&self.text[start..self.pos]);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek() != Some(b'[') {
            return Err(error("expected an array"));
        }
        self.visit_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek() != Some(b'{') {
            return Err(error("expected an object"));
        }
        self.visit_map(visitor)
    }

    /// An object only: `serde_json` also reads a struct from an array, field by field, which
    /// no API server sends.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    /// Skipped, and checked as a full parse checks (`serde_json` checks only the syntax).
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(error("byte strings are not for the fast path"))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(error("byte strings are not for the fast path"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(error("enums are not for the fast path"))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek() {
            Some(b't' | b'f') => self.deserialize_any(visitor),
            _ => Err(error("expected a boolean")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    /// `serde_json` visits 128-bit integers with `visit_i128`/`visit_u128`; nothing here reads
    /// them.
    fn deserialize_i128<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(error("128-bit integers are not for the fast path"))
    }

    fn deserialize_u128<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(error("128-bit integers are not for the fast path"))
    }

    number_only! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8
        deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64
    }
}

struct Seq<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl<'de> SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if !self.reader.more(&mut self.first, b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

struct Map<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl<'de> MapAccess<'de> for Map<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if !self.reader.more(&mut self.first, b'}')? {
            return Ok(None);
        }
        if self.reader.peek() != Some(b'"') {
            return Err(error("expected a key"));
        }
        seed.deserialize(Key(&mut *self.reader)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.reader.colon()?;
        seed.deserialize(&mut *self.reader)
    }
}

/// A map key, the cursor on its opening quote: a string, whatever is asked for (`serde_json`
/// also parses numbers and booleans out of keys; this reader leaves that to the visitor, which
/// then rejects the string). A seed that never reads its key leaves the cursor on the quote,
/// where the colon is then missing: an error, as in `serde_json`.
struct Key<'a, 'de>(&'a mut Reader<'de>);

impl<'de> Deserializer<'de> for Key<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.pos += 1;
        self.0.visit_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(error("enums are not for the fast path"))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(error("byte strings are not for the fast path"))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(error("byte strings are not for the fast path"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string unit unit_struct
        seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;

    /// Every call a visitor gets, in order, as text: the two readers are compared on these.
    #[derive(Debug, PartialEq)]
    struct Calls(Vec<String>);

    impl<'de> Deserialize<'de> for Calls {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let mut calls = Vec::new();
            d.deserialize_any(Recorder(&mut calls))?;
            Ok(Calls(calls))
        }
    }

    struct Recorder<'a>(&'a mut Vec<String>);

    impl<'de> Visitor<'de> for Recorder<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("anything")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
            self.0.push(format!("bool {v}"));
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
            self.0.push(format!("u64 {v}"));
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
            self.0.push(format!("i64 {v}"));
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
            self.0.push(format!("f64 {v}"));
            Ok(())
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
            self.0.push(format!("borrowed {v:?}"));
            Ok(())
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
            self.0.push(format!("str {v:?}"));
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            self.0.push("unit".into());
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            self.0.push("[".into());
            while seq.next_element_seed(RecorderSeed(&mut *self.0))?.is_some() {}
            self.0.push("]".into());
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            self.0.push("{".into());
            while map.next_key_seed(RecorderSeed(&mut *self.0))?.is_some() {
                map.next_value_seed(RecorderSeed(&mut *self.0))?;
            }
            self.0.push("}".into());
            Ok(())
        }
    }

    struct RecorderSeed<'a>(&'a mut Vec<String>);

    impl<'de> DeserializeSeed<'de> for RecorderSeed<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(Recorder(self.0))
        }
    }

    /// What both readers accept, visited alike.
    const ACCEPTED: &[&str] = &[
        r#"{"a": [1, -2, true, false, null, "e1", "x\"e\\u00e9\u0026\/\b\f\n\r\t"], "b": {}}"#,
        "  [ ]  ",
        "\t{\r\n}\n",
        "0",
        "-1",
        "123456789012345678",
        "-123456789012345678",
        r#""""#,
        r#""\u0000 \u001f \u00e9 \u20ac \uFFFF""#,
        r#""é ü 😀 plain UTF-8""#,
        r#"{"k\"ey": {"nested": [[[]], {}]}, "k\"ey": 2}"#,
        r#"[{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"a":"{\"x\":[1,2]}"}}}]"#,
    ];

    /// What `serde_json` rejects: this reader too.
    const REJECTED_BY_BOTH: &[&str] = &[
        "",
        "[1,]",
        r#"{"a":1,}"#,
        r#"{"a" 1}"#,
        r#"{"a":1 "b":2}"#,
        "[1 2]",
        r#"{1: 2}"#,
        r#""open"#,
        r#""bad \x escape""#,
        "\"control \u{1} char\"",
        "\"tab \t inside\"",
        r#""\u12""#,
        r#""\u12g4""#,
        "01",
        "-",
        "--1",
        "+1",
        "tru",
        "nul",
        "[1] x",
        "{} {}",
        "[",
        "{",
        r#"{"a""#,
        r#"{"a":"#,
        r#""\"#,
        "\u{a0}1",
        "1e400",
        r#""\ud800""#,
    ];

    /// What `serde_json` accepts and this reader leaves to the engine path.
    const REJECTED_HERE: &[&str] = &[
        "1.5",
        "-2.5",
        "1e5",
        "1E-5",
        "-0",
        "-0.0",
        "1234567890123456789",
        "18446744073709551615",
        r#""\ud83d\ude00""#,
        r#""\uDBFF\uDFFF""#,
    ];

    fn deep(n: usize) -> String {
        format!("{}{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn visits_what_serde_json_accepts_with_the_same_calls() {
        for json in ACCEPTED {
            let ours = from_str::<Calls>(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            let theirs = serde_json::from_str::<Calls>(json).unwrap();
            assert_eq!(ours, theirs, "{json}");
            // Skipping and raw capture accept it too, and capture it whole.
            from_str::<de::IgnoredAny>(json).unwrap();
            assert_eq!(from_str::<Raw<'_>>(json).unwrap().0, json.trim());
        }
        let limit = deep(MAX_DEPTH as usize);
        assert_eq!(
            from_str::<Calls>(&limit).unwrap(),
            serde_json::from_str::<Calls>(&limit).unwrap()
        );
        from_str::<Raw<'_>>(&limit).unwrap();
    }

    #[test]
    fn rejects_what_serde_json_rejects_and_what_it_is_not_sure_to_read_alike() {
        let too_deep = deep(MAX_DEPTH as usize + 1);
        for json in REJECTED_BY_BOTH {
            assert!(serde_json::from_str::<Value>(json).is_err(), "{json}");
            assert!(from_str::<Calls>(json).is_err(), "{json}");
            assert!(from_str::<de::IgnoredAny>(json).is_err(), "{json}");
            assert!(from_str::<Raw<'_>>(json).is_err(), "{json}");
        }
        for json in REJECTED_HERE.iter().copied().chain([too_deep.as_str()]) {
            assert!(serde_json::from_str::<Value>(json).is_ok(), "{json}");
            assert!(from_str::<Calls>(json).is_err(), "{json}");
            assert!(from_str::<de::IgnoredAny>(json).is_err(), "{json}");
            assert!(from_str::<Raw<'_>>(json).is_err(), "{json}");
            // Inside a document too, wherever it is.
            for doc in [
                format!(r#"{{"a": [1, {json}]}}"#),
                format!(r#"{{"a": {{"b": {json}}}, "c": 1}}"#),
            ] {
                assert!(from_str::<de::IgnoredAny>(&doc).is_err(), "{doc}");
                assert!(from_str::<Calls>(&doc).is_err(), "{doc}");
            }
        }
    }

    /// The string scan steps eight bytes at a time: quotes, escapes and control characters at
    /// every offset of a step, around multi-byte characters.
    #[test]
    fn strings_are_read_alike_at_every_offset() {
        for pad in 0..20 {
            let x = "x".repeat(pad);
            for json in [
                format!(r#"{{"{x}": "{x}\"{x}\\", "n": 1}}"#),
                format!(r#"["{x}é{x}", "{x}\n", "{x}\u00e9{x}\t{x}"]"#),
                format!(r#"["{x}", "{x}", {{"{x}": "{x}"}}]"#),
            ] {
                assert_eq!(
                    from_str::<Calls>(&json).unwrap(),
                    serde_json::from_str::<Calls>(&json).unwrap(),
                    "{json}"
                );
                assert_eq!(from_str::<Raw<'_>>(&json).unwrap().0, json);
            }
            for json in [
                format!("[\"{x}\u{1f}{x}\"]"),
                format!(r#"["{x}\ud800{x}"]"#),
                format!(r#"["{x}\q{x}"]"#),
                format!(r#"["{x}"#),
            ] {
                assert!(from_str::<Calls>(&json).is_err(), "{json}");
                assert!(from_str::<Raw<'_>>(&json).is_err(), "{json}");
            }
        }
    }

    /// Typed decoding through the reader gives what `serde_json` gives, including its errors
    /// for values of the wrong type.
    #[test]
    fn typed_decoding_agrees_with_serde_json() {
        use k8s_openapi::api::core::v1::{Container, SecurityContext};
        for json in [
            r#"{"runAsUser": 1000, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}, "x": {"y": [null]}}"#,
            r#"{"runAsUser": -1, "privileged": null}"#,
            // The generated decoders let later duplicates replace earlier ones.
            r#"{"runAsUser": 1, "runAsUser": 2}"#,
        ] {
            let ours: SecurityContext = from_str(json).unwrap();
            let theirs: SecurityContext = serde_json::from_str(json).unwrap();
            assert_eq!(ours, theirs, "{json}");
        }
        for json in [
            r#"{"name": "a", "image": "x", "ports": [{"containerPort": 80}], "resources": {"limits": {"cpu": "1", "memory": 5}}}"#,
            r#"{"name": "a\u00e9", "livenessProbe": {"httpGet": {"port": "http", "path": "/\u0026"}}}"#,
        ] {
            let ours: Container = from_str(json).unwrap();
            let theirs: Container = serde_json::from_str(json).unwrap();
            assert_eq!(ours, theirs, "{json}");
        }
        for json in [
            r#"{"runAsUser": "1000"}"#,
            r#"{"runAsUser": 99999999999999999999}"#,
            r#"{"privileged": 1}"#,
            r#"{"capabilities": []}"#,
        ] {
            assert!(
                serde_json::from_str::<SecurityContext>(json).is_err(),
                "{json}"
            );
            assert!(from_str::<SecurityContext>(json).is_err(), "{json}");
        }
    }

    /// Typed requests fail on values of other types before any visitor call, as in
    /// `serde_json`, so a visitor that takes anything still sees the same calls.
    #[test]
    fn typed_requests_visit_alike() {
        type Call = for<'a> fn(&'a str) -> (Option<Vec<String>>, Option<Vec<String>>);
        macro_rules! call {
            ($method:ident $(, $arg:expr)*) => {
                |text: &str| {
                    let run = |d: &mut dyn FnMut(Recorder<'_>) -> bool| {
                        let mut calls = Vec::new();
                        d(Recorder(&mut calls)).then_some(calls)
                    };
                    let ours = run(&mut |r| {
                        let mut reader = Reader::new(text);
                        Deserializer::$method(&mut reader, $($arg,)* r).is_ok() && reader.end().is_ok()
                    });
                    let theirs = run(&mut |r| {
                        let mut d = serde_json::Deserializer::from_str(text);
                        Deserializer::$method(&mut d, $($arg,)* r).is_ok() && d.end().is_ok()
                    });
                    (ours, theirs)
                }
            };
        }
        let methods: [(&str, Call); 12] = [
            ("bool", call!(deserialize_bool)),
            ("i8", call!(deserialize_i8)),
            ("i32", call!(deserialize_i32)),
            ("i64", call!(deserialize_i64)),
            ("u16", call!(deserialize_u16)),
            ("u64", call!(deserialize_u64)),
            ("f64", call!(deserialize_f64)),
            ("char", call!(deserialize_char)),
            ("str", call!(deserialize_str)),
            ("unit", call!(deserialize_unit)),
            ("unit_struct", call!(deserialize_unit_struct, "U")),
            ("tuple", call!(deserialize_tuple, 2)),
        ];
        for (name, method) in methods {
            for text in [r#""x""#, "true", "7", "-5", "null", "[1, 2]", r#"{"a": 1}"#] {
                let (ours, theirs) = method(text);
                assert_eq!(ours, theirs, "{name} on {text}");
            }
        }
        // Stricter: 128-bit integers are left to `serde_json`.
        assert!(Deserializer::deserialize_u128(&mut Reader::new("5"), de::IgnoredAny).is_err());
        assert!(Deserializer::deserialize_i128(&mut Reader::new("5"), de::IgnoredAny).is_err());
    }

    /// A key that its seed does not read is still a key: the colon after it is missing.
    #[test]
    fn unread_keys_are_not_skipped() {
        struct Unread;
        impl<'de> DeserializeSeed<'de> for Unread {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
                Ok(())
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                while map.next_key_seed(Unread)?.is_some() {
                    map.next_value::<de::IgnoredAny>()?;
                }
                Ok(())
            }
        }
        for text in [r#"{" :1}"#, r#"{"a":1}"#] {
            assert!(Reader::new(text).deserialize_map(V).is_err(), "{text}");
            assert!(
                serde_json::Deserializer::from_str(text)
                    .deserialize_map(V)
                    .is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn raw_values_need_this_reader() {
        assert!(serde_json::from_str::<Raw<'_>>("1").is_err());
        let doc = r#"{"a": {"b": [1, "x"]} , "c": null}"#;
        #[derive(Deserialize)]
        struct Doc<'a> {
            #[serde(borrow)]
            a: Raw<'a>,
            c: Option<Raw<'a>>,
        }
        let read: Doc<'_> = from_str(doc).unwrap();
        assert_eq!(read.a.0, r#"{"b": [1, "x"]}"#);
        assert!(read.c.is_none());
    }

    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1000i64..1000).prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z\"\\\\/\u{0}-\u{1f}é€😀 ]{0,20}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 48, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec(("[a-z\"\\\\é]{0,6}", inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Never laxer than `serde_json`, and alike where it reads: whatever this reader accepts
        /// (read, skipped or captured), `serde_json` accepts with the same visitor calls; JSON
        /// without floats or huge integers (as an API server sends) is always read. Texts are `serde_json`'s own
        /// output, compact or pretty, with one byte inserted, replaced or removed.
        #[test]
        fn never_accepts_what_serde_json_rejects(
            v in value(),
            pretty in proptest::prelude::any::<bool>(),
            edit in 0u8..4,
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::sample::select(b"{}[],:\"\\ \t\n0123456789-+.eEutrfalsn/x".to_vec()),
        ) {
            let mut text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            let original = text.clone();
            let i = at.index(text.len() + 1);
            if edit > 0 && text.is_char_boundary(i) {
                let b = char::from(byte);
                match edit {
                    1 => text.insert(i, b),
                    2 if i < text.len() && text.is_char_boundary(i + 1) => {
                        text.replace_range(i..=i, b.encode_utf8(&mut [0; 4]));
                    }
                    _ if i < text.len() && text.is_char_boundary(i + 1) => {
                        text.remove(i);
                    }
                    _ => {}
                }
            }
            let theirs = serde_json::from_str::<Calls>(&text).ok();
            match from_str::<Calls>(&text) {
                Ok(ours) => proptest::prop_assert_eq!(Some(ours), theirs, "{}", text),
                Err(_) => {
                    // Unedited, only floats and integers of 19 digits or more are left to
                    // the engine path (the strings hold no digits).
                    if text == original {
                        let long = text
                            .as_bytes()
                            .windows(MAX_DIGITS + 1)
                            .any(|w| w.iter().all(u8::is_ascii_digit));
                        proptest::prop_assert!(
                            long || text.contains(['.', 'e', 'E']) || text.contains("-0"),
                            "{}", text
                        );
                    }
                }
            }
            let full = serde_json::from_str::<Value>(&text).is_ok();
            if from_str::<de::IgnoredAny>(&text).is_ok() {
                proptest::prop_assert!(full, "skipped: {}", text);
            }
            if let Ok(raw) = from_str::<Raw<'_>>(&text) {
                proptest::prop_assert!(full, "captured: {}", text);
                proptest::prop_assert_eq!(raw.0, text.trim_matches([' ', '\t', '\n', '\r']));
            }
        }
    }
}
