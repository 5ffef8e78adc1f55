//! Kubernetes resource quantities (`500m`, `4`, `1.5Gi`, `12e6`), read and computed exactly.
//!
//! Written here rather than taken from a crate: `k8s-openapi`'s `Quantity` is only the string,
//! and the crates that compute with quantities (`kube_quantity`, `k8s_quantity_parser`) read the
//! number through an `f64` (so `0.1` is not exact) and panic or wrap on overflow. Kubernetes
//! itself (`k8s.io/apimachinery/pkg/api/resource`) is exact, and so is this: a value is a whole
//! number of nano-units in an `i128`, every operation is checked, and a result outside what
//! Kubernetes can hold is an error instead of a silently capped or rounded number.
//!
//! The grammar and the canonical form follow apimachinery's `ParseQuantity` and
//! `CanonicalizeBytes`:
//!
//! ```text
//! quantity ::= [+-] number [suffix]
//! number   ::= digits | digits "." [digits] | "." digits
//! suffix   ::= Ki | Mi | Gi | Ti | Pi | Ei          (binary SI: powers of 1024)
//!            | n | u | m | k | M | G | T | P | E    (decimal SI)
//!            | (e | E) [+-] digits                   (decimal exponent)
//! ```
//!
//! Where Kubernetes would quietly change a value, this refuses it: precision finer than one
//! nano-unit (Kubernetes rounds it up) and magnitudes above 2^63-1 units (Kubernetes caps binary
//! ones and documents that no quantity may exceed it).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a quantity was written, which decides how it is written back (as Kubernetes does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Powers of 1024: `Ki`, `Mi`, `Gi`, ...
    BinarySi,
    /// Powers of 1000: `m`, `k`, `M`, ... or no suffix.
    DecimalSi,
    /// `e` and a power of ten: `12e6`.
    DecimalExponent,
}

/// A quantity that is not one, or one Kubernetes cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error(
        "`{0}` is not a Kubernetes quantity (a number with an optional suffix, e.g. 500m, 2, 1.5Gi, 12e6)"
    )]
    Syntax(String),
    #[error("`{0}` is more precise than Kubernetes keeps (one nano-unit, 1n)")]
    TooPrecise(String),
    #[error("`{0}` is larger than a Kubernetes quantity can be (2^63-1)")]
    TooLarge(String),
    #[error("{0} overflows: the result is larger than a Kubernetes quantity can be (2^63-1)")]
    Overflow(String),
}

/// An exact Kubernetes quantity.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    /// The value in nano-units (10^-9).
    nanos: i128,
    format: Format,
}

const NANOS_PER_UNIT: i128 = 1_000_000_000;
/// 2^63-1 units: the largest magnitude Kubernetes documents for a quantity.
const MAX_NANOS: i128 = i64::MAX as i128 * NANOS_PER_UNIT;

impl Quantity {
    /// Parses a quantity as the API server does, but exactly (see the module docs).
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        let syntax = || QuantityError::Syntax(text.to_owned());
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let int_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int_digits, rest) = rest.split_at(int_end);
        let (frac_digits, suffix) = match rest.strip_prefix('.') {
            Some(after) => {
                let end = after
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len());
                after.split_at(end)
            }
            None => ("", rest),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(syntax());
        }
        // value = digits × 10^exp10 × 2^binary
        let (format, mut exp10, binary): (Format, i64, u32) = match suffix {
            "" => (Format::DecimalSi, 0, 0),
            "n" => (Format::DecimalSi, -9, 0),
            "u" => (Format::DecimalSi, -6, 0),
            "m" => (Format::DecimalSi, -3, 0),
            "k" => (Format::DecimalSi, 3, 0),
            "M" => (Format::DecimalSi, 6, 0),
            "G" => (Format::DecimalSi, 9, 0),
            "T" => (Format::DecimalSi, 12, 0),
            "P" => (Format::DecimalSi, 15, 0),
            "E" => (Format::DecimalSi, 18, 0),
            "Ki" => (Format::BinarySi, 0, 10),
            "Mi" => (Format::BinarySi, 0, 20),
            "Gi" => (Format::BinarySi, 0, 30),
            "Ti" => (Format::BinarySi, 0, 40),
            "Pi" => (Format::BinarySi, 0, 50),
            "Ei" => (Format::BinarySi, 0, 60),
            s if s.starts_with(['e', 'E']) => {
                let exp = &s[1..];
                let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(syntax());
                }
                // An exponent beyond i64 is beyond any quantity: too large or too precise.
                let e = exp.parse::<i64>().unwrap_or(if exp.starts_with('-') {
                    i64::MIN / 2
                } else {
                    i64::MAX / 2
                });
                (Format::DecimalExponent, e, 0)
            }
            _ => return Err(syntax()),
        };
        // Trailing zeros of the fraction and leading zeros of the whole do not change the value;
        // dropping them keeps long but ordinary spellings (`1.000000000000000000000`) exact.
        let frac = frac_digits.trim_end_matches('0');
        exp10 -= frac.len() as i64;
        let digits = format!("{int_digits}{frac}");
        let digits = digits.trim_start_matches('0');
        let too_large = || QuantityError::TooLarge(text.to_owned());
        let too_precise = || QuantityError::TooPrecise(text.to_owned());
        let mut nanos: i128 = if digits.is_empty() {
            0
        } else {
            // More than 38 significant digits cannot be both within range and within precision.
            let mantissa: i128 = digits.parse().map_err(|_| {
                if exp10 < 0 {
                    too_precise()
                } else {
                    too_large()
                }
            })?;
            let mantissa = mantissa
                .checked_mul(1i128 << binary)
                .ok_or_else(too_large)?;
            let e = exp10.saturating_add(9);
            if e >= 0 {
                let scale = u32::try_from(e)
                    .ok()
                    .and_then(|e| 10i128.checked_pow(e))
                    .ok_or_else(too_large)?;
                mantissa.checked_mul(scale).ok_or_else(too_large)?
            } else {
                let scale = u32::try_from(-e)
                    .ok()
                    .and_then(|e| 10i128.checked_pow(e))
                    .ok_or_else(too_precise)?;
                if mantissa % scale != 0 {
                    return Err(too_precise());
                }
                mantissa / scale
            }
        };
        if nanos > MAX_NANOS {
            return Err(too_large());
        }
        if negative {
            nanos = -nanos;
        }
        Ok(Self { nanos, format })
    }

    /// How it was written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The value in nano-units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// `self × factor`, exactly, in `self`'s format; an error when Kubernetes could not hold it.
    pub fn checked_mul(&self, factor: i64) -> Result<Self, QuantityError> {
        self.nanos
            .checked_mul(i128::from(factor))
            .filter(|n| n.abs() <= MAX_NANOS)
            .map(|nanos| Self {
                nanos,
                format: self.format,
            })
            .ok_or_else(|| QuantityError::Overflow(format!("{self} × {factor}")))
    }

    /// `self + other`, exactly, in `self`'s format (as apimachinery's `Add` keeps the receiver's).
    pub fn checked_add(&self, other: &Quantity) -> Result<Self, QuantityError> {
        self.nanos
            .checked_add(other.nanos)
            .filter(|n| n.abs() <= MAX_NANOS)
            .map(|nanos| Self {
                nanos,
                format: self.format,
            })
            .ok_or_else(|| QuantityError::Overflow(format!("{self} + {other}")))
    }
}

/// Divides out every factor of `base` from `n`; returns what remains and how many were removed.
fn remove_factors(mut n: i128, base: i128) -> (i128, u32) {
    let mut times = 0;
    while n != 0 && n % base == 0 {
        n /= base;
        times += 1;
    }
    (n, times)
}

/// The canonical form Kubernetes writes (apimachinery's `CanonicalizeBytes`): `1.5Gi` is
/// `1536Mi`, `0.1` is `100m`, `1000` is `1k`, `1.5k` is `1500`.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let whole = self.nanos % NANOS_PER_UNIT == 0;
        let binary =
            self.format == Format::BinarySi && self.nanos.abs() >= 1024 * NANOS_PER_UNIT && whole;
        if binary {
            let (mantissa, times) = remove_factors(self.nanos / NANOS_PER_UNIT, 1024);
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][times as usize];
            return write!(f, "{mantissa}{suffix}");
        }
        // Decimal: the mantissa without trailing zeros, then the exponent lowered to a multiple
        // of three (within range the exponent stays within -9..=18, the SI suffixes).
        let (mut mantissa, times) = remove_factors(self.nanos, 10);
        let mut exponent = times as i32 - 9;
        while exponent.rem_euclid(3) != 0 {
            mantissa *= 10;
            exponent -= 1;
        }
        match self.format {
            Format::DecimalExponent if exponent != 0 => write!(f, "{mantissa}e{exponent}"),
            Format::DecimalExponent => write!(f, "{mantissa}"),
            _ => {
                let suffix = match exponent {
                    -9 => "n",
                    -6 => "u",
                    -3 => "m",
                    0 => "",
                    3 => "k",
                    6 => "M",
                    9 => "G",
                    12 => "T",
                    15 => "P",
                    _ => "E",
                };
                write!(f, "{mantissa}{suffix}")
            }
        }
    }
}

/// Equal values are equal quantities, however they are written (`1Gi` = `1024Mi`).
impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A string, or a number (as the API server also takes `cpu: 2` for `cpu: "2"`).
impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Number(serde_json::Number),
        }
        let text = match Written::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)")
        })? {
            Written::Text(t) => t,
            Written::Number(n) => n.to_string(),
        };
        Quantity::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Kubernetes quantity: a number with an optional suffix (500m, 2, 1.5Gi, 12e6).",
            "type": ["string", "number"],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn canonical_forms_match_apimachinery() {
        // Pairs as apimachinery's quantity_test.go has them (TestQuantityString, ...ParseEmit).
        for (input, canonical) in [
            ("0", "0"),
            ("0Gi", "0"),
            ("-0", "0"),
            ("1", "1"),
            ("1000", "1k"),
            ("1.5k", "1500"),
            ("0.1", "100m"),
            ("100m", "100m"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("1024Mi", "1Gi"),
            ("0.5Ki", "512"),
            ("1023", "1023"),
            ("1025Ki", "1025Ki"),
            ("1.1Ki", "1126400m"),
            ("12e6", "12e6"),
            ("1e3", "1e3"),
            ("1E3", "1e3"),
            ("100e-3", "100e-3"),
            ("1e-9", "1e-9"),
            ("1n", "1n"),
            ("1000n", "1u"),
            ("0.000001", "1u"),
            (".5", "500m"),
            ("5.", "5"),
            ("+5", "5"),
            ("-1.5Gi", "-1536Mi"),
            ("9223372036854775807", "9223372036854775807"),
            ("7Ei", "7Ei"),
            ("9E", "9E"),
            ("1000M", "1G"),
            ("1.08", "1080m"),
            (".001Ki", "1024m"),
            (".000000001Ki", "1024n"),
            ("1.2e3", "1200"),
            ("0.5e-2", "5e-3"),
            ("300e6", "300e6"),
            ("1.000000000000000000000000000000000000000000000000000", "1"),
            (
                "000000000000000000000000000000000000000000000000000001",
                "1",
            ),
        ] {
            assert_eq!(q(input).to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(q("1.5Gi").checked_mul(2).unwrap().to_string(), "3Gi");
        assert_eq!(q("8Gi").checked_mul(2).unwrap().to_string(), "16Gi");
        assert_eq!(q("500").checked_mul(2).unwrap().to_string(), "1k");
        assert_eq!(q("0.1").checked_mul(3).unwrap().to_string(), "300m");
        assert_eq!(q("250m").checked_mul(2).unwrap().to_string(), "500m");
        assert_eq!(
            q("1Gi").checked_add(&q("512Mi")).unwrap().to_string(),
            "1536Mi"
        );
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert!(q("1Gi") > q("1G"));
    }

    #[test]
    fn overflow_is_an_error() {
        let e = q("5Ei").checked_mul(2).unwrap_err();
        assert!(matches!(e, QuantityError::Overflow(_)), "{e}");
        assert!(
            q("4Ei").checked_mul(2).is_err(),
            "2^63 is one past the largest"
        );
        assert!(q("9E").checked_add(&q("1E")).is_err());
        assert_eq!(
            q("-9223372036854775807")
                .checked_mul(-1)
                .unwrap()
                .to_string(),
            "9223372036854775807"
        );
    }

    #[test]
    fn invalid_quantities_are_refused_with_the_reason() {
        for bad in [
            "", "lots", "1.5.5Gi", "1GiB", "1gi", "Gi", ".", "-", "1e", "1e1.5", "1 Gi", " 1",
            "1Ki2", "0x10", "1_000", "NaN", "inf", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu",
            ".5i", "1i", "-3.01i", "-3.01e-", "1 ",
        ] {
            assert!(
                matches!(Quantity::parse(bad), Err(QuantityError::Syntax(_))),
                "{bad:?} should be refused: {:?}",
                Quantity::parse(bad)
            );
        }
        assert!(matches!(
            Quantity::parse("0.1n"),
            Err(QuantityError::TooPrecise(_))
        ));
        assert!(matches!(
            Quantity::parse("1e-10"),
            Err(QuantityError::TooPrecise(_))
        ));
        // 8Ei is 2^63: one past the largest.
        for big in [
            "8Ei",
            "9223372036854775808",
            "1e19",
            "1e999999999999999999999",
            "16Ei",
        ] {
            let r = Quantity::parse(big);
            assert!(matches!(r, Err(QuantityError::TooLarge(_))), "{big}: {r:?}");
        }
        assert!(matches!(
            Quantity::parse("1e-999999999999999999999"),
            Err(QuantityError::TooPrecise(_))
        ));
    }

    #[test]
    fn reads_strings_and_numbers() {
        let v: Quantity = serde_json::from_str("\"1.5Gi\"").unwrap();
        assert_eq!(v.to_string(), "1536Mi");
        let v: Quantity = serde_json::from_str("4").unwrap();
        assert_eq!(v.to_string(), "4");
        let v: Quantity = serde_json::from_str("0.5").unwrap();
        assert_eq!(v.to_string(), "500m");
        assert!(serde_json::from_str::<Quantity>("\"lots\"").is_err());
        assert!(serde_json::from_str::<Quantity>("true").is_err());
        assert_eq!(serde_json::to_string(&q("2048Mi")).unwrap(), "\"2Gi\"");
    }
}
