//! `.helmignore` exactly as Helm reads it (`helm.sh/helm/v3/pkg/ignore`), with Go's
//! `path/filepath.Match` underneath.
//!
//! Written by hand because no crate matches these semantics: `.helmignore` is not `.gitignore`
//! (no `**`, a pattern without `/` matches the base name only, a leading `/` anchors, and a `!`
//! rule ignores everything it does *not* match — Helm's own quirk, kept here because the point
//! is to select the same files Helm does), and Go's `Match` (`*` never crosses `/`, classes
//! negated with `^`, `\` escapes) differs from the `glob` and `globset` crates in all three.

/// Why a `.helmignore` could not be read (Helm refuses the chart then too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreError {
    #[error("line {line}: `{rule}`: double-star (**) syntax is not supported")]
    DoubleStar { line: usize, rule: String },
    #[error("line {line}: `{rule}`: syntax error in pattern")]
    BadPattern { line: usize, rule: String },
}

#[derive(Debug, Clone)]
struct Pattern {
    glob: String,
    negate: bool,
    must_dir: bool,
    kind: Anchor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// Leading `/`: matched against the whole path.
    Root,
    /// Contains `/`: matched against the whole path.
    Structural,
    /// No `/`: matched against the base name only.
    BaseName,
}

/// The rules of one `.helmignore` (plus Helm's default `templates/.?*`).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

impl Rules {
    /// Helm's default rules only: dotfiles in `templates/`.
    pub fn defaults() -> Self {
        let mut r = Rules::default();
        // A valid constant pattern.
        let _ = r.parse_rule("templates/.?*", 0);
        r
    }

    /// The rules of a `.helmignore` file's text, then Helm's defaults (as `LoadDir` adds them).
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let mut r = Rules::default();
        // bufio.Scanner splits on \n and drops a trailing \r.
        for (i, line) in text.split('\n').enumerate() {
            r.parse_rule(line, i + 1)?;
        }
        r.parse_rule("templates/.?*", 0)?;
        Ok(r)
    }

    fn parse_rule(&mut self, rule: &str, line: usize) -> Result<(), IgnoreError> {
        let rule = rule.trim_matches(|c: char| c.is_whitespace());
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(IgnoreError::DoubleStar {
                line,
                rule: rule.to_owned(),
            });
        }
        if go_match(rule, "abc").is_err() {
            return Err(IgnoreError::BadPattern {
                line,
                rule: rule.to_owned(),
            });
        }
        let (negate, rule) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (must_dir, rule) = match rule.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (kind, glob) = if let Some(r) = rule.strip_prefix('/') {
            (Anchor::Root, r)
        } else if rule.contains('/') {
            (Anchor::Structural, rule)
        } else {
            (Anchor::BaseName, rule)
        };
        self.patterns.push(Pattern {
            glob: glob.to_owned(),
            negate,
            must_dir,
            kind,
        });
        Ok(())
    }

    /// Whether Helm ignores `path` (relative to the chart root, `/`-separated).
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            let matched = || {
                let name = match p.kind {
                    // Go's `filepath.Base`: trailing slashes do not count.
                    Anchor::BaseName => {
                        let trimmed = path.trim_end_matches('/');
                        trimmed.rsplit('/').next().unwrap_or(trimmed)
                    }
                    Anchor::Root | Anchor::Structural => path,
                };
                go_match(&p.glob, name).unwrap_or(false)
            };
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !matched() {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched() {
                return true;
            }
        }
        false
    }

    /// Whether a file is ignored, itself or through one of its directories (Helm's walk skips
    /// an ignored directory whole).
    pub fn ignore_file(&self, path: &str) -> bool {
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            let dir = &path[..at + i];
            if self.ignore(dir, true) {
                return true;
            }
            at += i + 1;
        }
        self.ignore(path, false)
    }
}

/// The pattern is malformed (Go's `filepath.ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `path/filepath.Match` on Unix (separator `/`).
pub fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern;
    let mut name = name;
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains('/'));
        }
        let (t, ok) = match_chunk(chunk, name)?;
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if star {
            for (i, c) in name.char_indices() {
                if c == '/' {
                    break;
                }
                let skip = i + c.len_utf8();
                let (t, ok) = match_chunk(chunk, &name[skip..])?;
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
            }
        }
        // The rest of the pattern must still be well-formed.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, "")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(pattern: &str) -> (bool, &str, &str) {
    let mut p = pattern;
    let mut star = false;
    while let Some(r) = p.strip_prefix('*') {
        p = r;
        star = true;
    }
    let bytes = p.as_bytes();
    let mut in_range = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &p[..i], &p[i..])
}

fn match_chunk<'a>(chunk: &str, s: &'a str) -> Result<(&'a str, bool), BadPattern> {
    let mut chunk = chunk;
    let mut s = s;
    let mut failed = false;
    while let Some(c0) = chunk.chars().next() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c0 {
            '[' => {
                let mut r = '\0';
                if !failed {
                    let c = s.chars().next().unwrap_or('\0');
                    r = c;
                    s = &s[c.len_utf8()..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if let Some(rest) = chunk.strip_prefix('^') {
                    negated = true;
                    chunk = rest;
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if nrange > 0
                        && let Some(rest) = chunk.strip_prefix(']')
                    {
                        chunk = rest;
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if let Some(rest) = chunk.strip_prefix('-') {
                        let (h, rest) = get_esc(rest)?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            '?' => {
                if !failed {
                    let c = s.chars().next().unwrap_or('\0');
                    if c == '/' {
                        failed = true;
                    }
                    s = &s[c.len_utf8()..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                let lit = if c0 == '\\' {
                    chunk = &chunk[1..];
                    chunk.chars().next().ok_or(BadPattern)?
                } else {
                    c0
                };
                if !failed {
                    // Go compares bytes here; comparing characters is the same for valid UTF-8.
                    match s.chars().next() {
                        Some(c) if c == lit => s = &s[c.len_utf8()..],
                        Some(c) => {
                            failed = true;
                            s = &s[c.len_utf8()..];
                        }
                        None => failed = true,
                    }
                }
                chunk = &chunk[lit.len_utf8()..];
            }
        }
    }
    if failed {
        return Ok(("", false));
    }
    Ok((s, true))
}

fn get_esc(chunk: &str) -> Result<(char, &str), BadPattern> {
    let mut chunk = chunk;
    match chunk.chars().next() {
        None | Some('-' | ']') => return Err(BadPattern),
        Some('\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(BadPattern);
            }
        }
        Some(_) => {}
    }
    let c = chunk.chars().next().ok_or(BadPattern)?;
    let rest = &chunk[c.len_utf8()..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((c, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's own `filepath.Match` table (`path/filepath/match_test.go`), Unix rows.
    #[test]
    fn go_match_table() {
        let ok = |p: &str, n: &str, want: bool| {
            assert_eq!(go_match(p, n), Ok(want), "Match({p:?}, {n:?})");
        };
        let bad = |p: &str, n: &str| {
            assert_eq!(go_match(p, n), Err(BadPattern), "Match({p:?}, {n:?})");
        };
        ok("abc", "abc", true);
        ok("*", "abc", true);
        ok("*c", "abc", true);
        ok("a*", "a", true);
        ok("a*", "abc", true);
        ok("a*", "ab/c", false);
        ok("a*/b", "abc/b", true);
        ok("a*/b", "a/c/b", false);
        ok("a*b*c*d*e*/f", "axbxcxdxe/f", true);
        ok("a*b*c*d*e*/f", "axbxcxdxexxx/f", true);
        ok("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false);
        ok("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false);
        ok("a*b?c*x", "abxbbxdbxebxczzx", true);
        ok("a*b?c*x", "abxbbxdbxebxczzy", false);
        ok("ab[c]", "abc", true);
        ok("ab[b-d]", "abc", true);
        ok("ab[e-g]", "abc", false);
        ok("ab[^c]", "abc", false);
        ok("ab[^b-d]", "abc", false);
        ok("ab[^e-g]", "abc", true);
        ok("a\\*b", "a*b", true);
        ok("a\\*b", "ab", false);
        ok("a?b", "a☺b", true);
        ok("a[^a]b", "a☺b", true);
        ok("a???b", "a☺b", false);
        ok("a[^a][^a][^a]b", "a☺b", false);
        ok("[a-ζ]*", "α", true);
        ok("*[a-ζ]", "A", false);
        ok("a?b", "a/b", false);
        ok("a*b", "a/b", false);
        ok("[\\]a]", "]", true);
        ok("[\\-]", "-", true);
        ok("[x\\-]", "x", true);
        ok("[x\\-]", "-", true);
        ok("[x\\-]", "z", false);
        ok("[\\-x]", "x", true);
        ok("[\\-x]", "-", true);
        ok("[\\-x]", "a", false);
        bad("[]a]", "]");
        bad("[-]", "-");
        bad("[x-]", "x");
        bad("[x-]", "-");
        bad("[x-]", "z");
        bad("[-x]", "x");
        bad("[-x]", "-");
        bad("[-x]", "a");
        bad("\\", "a");
        bad("[a-b-c]", "a");
        bad("[", "a");
        bad("[^", "a");
        bad("[^bc", "a");
        bad("a[", "a");
        bad("a[", "x");
        bad("a/b[", "x");
        ok("*x", "xxx", true);
    }

    /// Helm's own cases (`pkg/ignore/rules_test.go`).
    #[test]
    fn helm_rules_table() {
        let cases: &[(&str, &str, bool, bool)] = &[
            // pattern, path, is_dir, expect ignored
            ("helm.txt", "helm.txt", false, true),
            ("helm.*", "helm.txt", false, true),
            ("helm.*", "rudder.txt", false, false),
            ("*.txt", "tiller.txt", false, true),
            ("*.txt", "cargo/a.txt", false, true),
            ("cargo/*.txt", "cargo/a.txt", false, true),
            ("cargo/*.*", "cargo/a.txt", false, true),
            ("cargo/*.txt", "mast/a.txt", false, false),
            ("ru[c-e]?er.txt", "rudder.txt", false, true),
            ("templates/.?*", "templates/.dotfile", false, true),
            // "." should never get ignored. https://github.com/helm/helm/issues/1776
            (".*", ".", true, false),
            (".*", "./", true, false),
            (".*", ".joonix", false, true),
            (".*", "helm.txt", false, false),
            (".*", "", false, false),
            // Directory tests
            ("cargo/", "cargo", true, true),
            ("cargo/", "cargo/", true, true),
            ("cargo/", "mast/", true, false),
            ("helm.txt/", "helm.txt", false, false),
            // Negation tests
            ("!helm.txt", "helm.txt", false, false),
            ("!helm.txt", "tiller.txt", false, true),
            ("!*.txt", "cargo", true, true),
            ("!cargo/", "mast/", true, true),
            // Absolute path tests
            ("/a.txt", "a.txt", false, true),
            ("/a.txt", "cargo/a.txt", false, false),
            ("/cargo/a.txt", "cargo/a.txt", false, true),
        ];
        for (pattern, path, is_dir, want) in cases {
            let r = Rules::parse(pattern).unwrap();
            // The defaults Helm's test does not add must not change these rows.
            assert_eq!(r.ignore(path, *is_dir), *want, "{pattern} on {path}");
        }
        assert!(Rules::parse("**/foo").is_err());
        assert!(Rules::parse("a[").is_err());
    }

    #[test]
    fn directories_are_skipped_whole() {
        let r = Rules::parse("ci/\n# comment\n\n*.bak\r\n").unwrap();
        assert!(r.ignore_file("ci/values.yaml"));
        assert!(r.ignore_file("templates/x.bak"));
        assert!(!r.ignore_file("templates/ci.yaml"));
        assert!(r.ignore_file("templates/.hidden.yaml"));
        assert!(!Rules::defaults().ignore_file("templates/deployment.yaml"));
    }
}
