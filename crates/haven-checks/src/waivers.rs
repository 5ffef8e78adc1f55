//! Waivers: named checks accepted as exceptions, each with a reason and an expiry date.
//!
//! ```yaml
//! apiVersion: haven.commonground.nl/v1alpha1
//! kind: WaiverList
//! waivers:
//! - rule: hamasters
//!   reason: one-node development cluster, never holds production data
//!   expires: 2027-06-30
//! ```
//!
//! The format is the one of `haven app check --waivers`, read by the same reader
//! ([`haven_model::waiver`]); what differs is what `rule` names (a check) and that a check waiver
//! must expire and cannot select objects. Old `kind: CheckWaiverList` files with `check:` are
//! still read, with a deprecation note.
//!
//! A waiver never hides a result: the check is shown with its real result and the waiver next to
//! it. An expired waiver waives nothing and is reported. A waiver naming an unknown check is an
//! error (a typo would otherwise silently waive nothing).

use haven_model::InputError;
use haven_model::waiver::WaiverPolicy;
pub use haven_model::waiver::{Waiver, WaiverList};

/// Parse a waiver file for `haven check`: `known_checks` are the names a `rule` may give (or
/// match, as a pattern). Every error names the file, line and field.
pub fn parse_waivers(
    file: &str,
    text: &str,
    known_checks: &[&str],
) -> Result<WaiverList, Vec<InputError>> {
    let listed_by = format!("known: {}", known_checks.join(", "));
    WaiverList::parse(
        file,
        text,
        &WaiverPolicy {
            ids: known_checks,
            noun: "check",
            listed_by: &listed_by,
            selectors: false,
            expiry_required: true,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["hamasters", "multiaz"];

    #[test]
    fn parses_a_waiver_list() {
        let w = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: WaiverList\nwaivers:\n- rule: hamasters\n  reason: dev\n  expires: 2027-06-30\n",
            KNOWN,
        )
        .unwrap();
        assert_eq!(w.waivers.len(), 1);
        assert_eq!(w.waivers[0].expires, Some(jiff::civil::date(2027, 6, 30)));
        assert!(w.notes.is_empty());
    }

    #[test]
    fn reads_the_old_format_with_a_note() {
        let w = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: CheckWaiverList\nwaivers:\n- check: hamasters\n  reason: dev\n  expires: 2027-06-30\n",
            KNOWN,
        )
        .unwrap();
        assert_eq!(w.waivers[0].rule, "hamasters");
        assert_eq!(w.notes.len(), 1);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: CheckWaiverList\nwaivers:\n- check: hamasterz\n  reason: dev\n  expires: 2027-06-30\n",
            KNOWN,
        )
        .unwrap_err();
        assert_eq!(
            e[0].describe(),
            "w.yaml:4: unknown check `hamasterz`; did you mean `hamasters`? (known: hamasters, \
             multiaz) (field `waivers[0].check`)"
        );
        // The line of the bad value itself, even when the same text appears earlier.
        let e = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: WaiverList\nwaivers:\n- rule: hamasters\n  reason: \"expires: someday\"\n  expires: 2027-06-30\n- rule: multiaz\n  reason: dev\n  expires: someday\n",
            KNOWN,
        )
        .unwrap_err();
        assert_eq!(
            (e[0].line, e[0].field.as_deref()),
            (9, Some("waivers[1].expires"))
        );
        // A missing field: said once, at the entry.
        let e = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: WaiverList\nwaivers:\n- reason: dev\n  expires: 2027-06-30\n",
            KNOWN,
        )
        .unwrap_err();
        assert_eq!(
            e[0].describe(),
            "w.yaml:4: a waiver needs a `rule`: the check it waives (field `waivers[0]`)"
        );
        let e = parse_waivers("w.yaml", "apiVersion: v1\nkind: ConfigMap\n", KNOWN).unwrap_err();
        assert!(e.iter().any(|e| e.message.contains("WaiverList")), "{e:?}");
    }

    #[test]
    fn a_second_document_is_an_error_not_ignored() {
        let e = parse_waivers(
            "w.yaml",
            "kind: WaiverList\nwaivers: []\n---\nkind: WaiverList\nwaivers:\n- rule: hamasters\n  reason: dev\n  expires: 2027-06-30\n",
            KNOWN,
        )
        .unwrap_err();
        assert_eq!(e[0].kind, haven_model::InputErrorKind::ExtraDocument);
        assert_eq!(e[0].line, 4);
    }
}
