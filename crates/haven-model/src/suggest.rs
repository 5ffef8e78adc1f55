//! "Did you mean": the one place that decides which known name a misspelt one was meant to be.
//!
//! Every reader that refuses a name (a config key, a waiver field, a rule id, a built-in kind, a
//! catalogue component) asks here, so a typo gets the same help wherever it is made.

/// The candidate closest to `word`, when it is close enough to be a typo of it.
///
/// Case is ignored (so a name in the wrong case finds the right one). One edit (or a swap of two neighbours) catches short names (`tll` →
/// `ttl`) that similarity scores miss; Jaro-Winkler catches longer names with a shared prefix
/// (`retentionDays` → `retention`). A dotted name is also compared by its last part, so a rule
/// id typed without its group (`scalable`) finds `haven.scalable`. Among equally close
/// candidates the first wins, so the answer does not depend on hashing.
pub fn did_you_mean<'c, I, S>(word: &str, candidates: I) -> Option<&'c str>
where
    I: IntoIterator<Item = &'c S>,
    S: AsRef<str> + ?Sized + 'c,
{
    let written = word;
    let word = word.to_lowercase();
    let score = |candidate: &str| -> Option<(usize, f64)> {
        if candidate == written {
            return None;
        }
        let candidate = candidate.to_lowercase();
        let whole = closeness(&word, &candidate);
        let tail = candidate
            .rsplit_once('.')
            .and_then(|(_, last)| closeness(&word, last));
        match (whole, tail) {
            (Some(a), Some(b)) => Some(if closer(b, a) { b } else { a }),
            (a, b) => a.or(b),
        }
    };
    let mut best: Option<((usize, f64), &'c str)> = None;
    for candidate in candidates {
        let candidate = candidate.as_ref();
        if let Some(s) = score(candidate)
            && best.is_none_or(|(b, _)| closer(s, b))
        {
            best = Some((s, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Edits and (negated) similarity when `candidate` is close enough to `word`.
fn closeness(word: &str, candidate: &str) -> Option<(usize, f64)> {
    let edits = strsim::damerau_levenshtein(word, candidate);
    let jw = strsim::jaro_winkler(word, candidate);
    let long = candidate.chars().count() > 5;
    (edits <= 1 || (edits <= 2 && long) || jw >= 0.85).then_some((edits, -jw))
}

/// Whether score `a` is strictly closer than `b`: fewer edits, then higher similarity.
fn closer(a: (usize, f64), b: (usize, f64)) -> bool {
    a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).is_lt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_of_short_and_long_names() {
        let keys = ["ttl", "schedule", "enabled"];
        assert_eq!(did_you_mean("tll", &keys), Some("ttl"));
        assert_eq!(did_you_mean("schedul", &keys), Some("schedule"));
        assert_eq!(did_you_mean("Enabeld", &keys), Some("enabled"));
        assert_eq!(did_you_mean("zzz", &keys), None);
        assert_eq!(did_you_mean("ttl", &keys), None, "an exact name is no typo");
        assert_eq!(
            did_you_mean("TTL", &keys),
            Some("ttl"),
            "a wrong case is one"
        );
    }

    #[test]
    fn compares_dotted_names_by_their_last_part_too() {
        let ids = ["haven.scalable", "haven.containerised", "pss.privileged"];
        assert_eq!(did_you_mean("scalable", &ids), Some("haven.scalable"));
        assert_eq!(did_you_mean("haven.scalabel", &ids), Some("haven.scalable"));
        assert_eq!(did_you_mean("privileged", &ids), Some("pss.privileged"));
    }

    #[test]
    fn takes_owned_and_borrowed_candidates_and_prefers_the_first_of_equals() {
        let kinds = vec!["Deployment".to_owned(), "DaemonSet".to_owned()];
        assert_eq!(did_you_mean("Deploymnet", &kinds), Some("Deployment"));
        assert_eq!(did_you_mean("ab", &["ac", "ad"]), Some("ac"));
    }
}
