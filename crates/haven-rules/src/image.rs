//! Container image references, read by the grammar of the distribution project's `reference`
//! package (github.com/distribution/reference, `regexp.go`), which containerd, CRI-O and the
//! kubelet parse `image:` with; and which tags are versions.
//!
//! Written here on `regex` rather than taken from `oci-spec`'s `distribution::Reference`: that
//! one reads `\w` in tags as any Unicode word character (Go's RE2 reads ASCII), knows no IPv6
//! registry hosts, and brings four proc-macro crates for one regular expression.

use std::sync::LazyLock;

use regex::Regex;

/// The parts of `registry:5000/team/app:1.2@sha256:…` that pinning cares about.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The repository name, with its registry host if written.
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Why a reference does not parse: the container runtime refuses it (`InvalidImageName`).
#[derive(Debug, PartialEq, Eq)]
pub enum InvalidReference {
    /// Capital letters in the repository name (only the registry host may have them).
    Uppercase,
    /// The name (registry and repository) is longer than 255 characters.
    NameTooLong,
    /// A digest whose algorithm is known but whose hex part has the wrong length.
    DigestLength,
    /// Anything else the grammar does not allow.
    Format,
}

impl std::fmt::Display for InvalidReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Uppercase => "the repository name must be lowercase",
            Self::NameTooLong => "the name is longer than 255 characters",
            Self::DigestLength => "the digest has the wrong length for its algorithm",
            Self::Format => {
                "it is no `[registry/]name[:tag][@digest]` (a tag is up to 128 letters, digits, \
                 `_`, `.` and `-`, not starting with `.` or `-`)"
            }
        })
    }
}

/// `ReferenceRegexp` of `regexp.go`, spelled out with ASCII classes (Go's `\w`).
static REFERENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&reference_pattern()).expect("the grammar"));

/// [`REFERENCE`]'s text: `name[:tag][@digest]`, whole, the parts in groups 1, 2 and 3.
fn reference_pattern() -> String {
    let alphanumeric = "[a-z0-9]+";
    let separator = "(?:[._]|__|[-]+)";
    let path_component = format!("{alphanumeric}(?:{separator}{alphanumeric})*");
    let domain_component = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain_name = format!(r"{domain_component}(?:\.{domain_component})*");
    let ipv6 = r"\[(?:[a-fA-F0-9:]+)\]";
    let host = format!("(?:{domain_name}|{ipv6})");
    let domain_and_port = format!("{host}(?::[0-9]+)?");
    let remote_name = format!("{path_component}(?:/{path_component})*");
    let name = format!("(?:{domain_and_port}/)?{remote_name}");
    let tag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    let digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
    format!("^({name})(?::({tag}))?(?:@({digest}))?$")
}

/// Parses `image` as the container runtime does.
pub fn parse(image: &str) -> Result<ImageRef<'_>, InvalidReference> {
    // Only whether it matches is asked of the regex: asking for the groups as well runs a
    // backtracking search after the DFA's, which cost 9% of `haven app check`'s instructions on
    // the benchmark corpus. Text the grammar accepts splits one way only (see [`split`]).
    if !REFERENCE.is_match(image) {
        // The grammar's names are lowercase; the reference package says so when the same text
        // in lowercase would parse.
        let lower = image.to_ascii_lowercase();
        return Err(if lower != image && REFERENCE.is_match(&lower) {
            InvalidReference::Uppercase
        } else {
            InvalidReference::Format
        });
    }
    let (name, tag, digest) = split(image);
    if name.len() > 255 {
        return Err(InvalidReference::NameTooLong);
    }
    // go-digest checks the length of the registered algorithms; others are left to the registry.
    if let Some((algorithm, hex)) = digest.and_then(|d| d.split_once(':')) {
        let wanted = match algorithm {
            "sha256" => Some(64),
            "sha384" => Some(96),
            "sha512" => Some(128),
            _ => None,
        };
        if wanted.is_some_and(|n| n != hex.len()) {
            return Err(InvalidReference::DigestLength);
        }
    }
    Ok(ImageRef { name, tag, digest })
}

/// The name, tag and digest of a reference [`REFERENCE`] matches. Only the digest holds an `@`,
/// and only the tag holds a `:` after the last `/` (a `:` of the name is a registry port or in
/// an IPv6 host, both before a `/`; a name without `/` has no registry), so in text the grammar
/// accepts these cuts are the groups' (`split_is_the_grammars_grouping` checks it).
fn split(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    let last = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last..].find(':') {
        Some(i) => (&rest[..last + i], Some(&rest[last + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

/// The registry host containerd (and Docker) pull short names from, and its legacy spelling.
pub const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_LEGACY: &str = "index.docker.io";

/// The name of a reference [`parse`] accepted, fully qualified as the container runtime reads
/// it: distribution's `ParseNormalizedNamed` (`splitDockerDomain` in `normalize.go`), which
/// containerd's CRI plugin applies to every `image:`. The first path component is a registry
/// host when it holds a `.` or a `:`, is `localhost`, or has a capital letter; otherwise the
/// name is on Docker Hub (`nginx` -> `docker.io/library/nginx`, `org/app` ->
/// `docker.io/org/app`). `index.docker.io` is Docker Hub's legacy host and becomes
/// `docker.io`; an official image on it gets `library/` as well (`docker.io/nginx` ->
/// `docker.io/library/nginx`). Unlike distribution, the host is lowercased: host names are
/// case-insensitive (`GHCR.io` is `ghcr.io`), and a registry allow-list must not be evaded by
/// spelling one differently. The tag and digest are not part of the name.
pub fn normalised_name(name: &str) -> String {
    let (host, rest) = split_host(name);
    let host = match host {
        Some(h) => {
            let h = h.to_ascii_lowercase();
            if h == DOCKER_HUB_LEGACY {
                DOCKER_HUB.to_owned()
            } else {
                h
            }
        }
        None => DOCKER_HUB.to_owned(),
    };
    if host == DOCKER_HUB && !rest.contains('/') {
        format!("{host}/library/{rest}")
    } else {
        format!("{host}/{rest}")
    }
}

/// The registry host of a name (as written) and the path after it; `None` when the first
/// component is no host (`splitDockerDomain`'s test).
pub(crate) fn split_host(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// A pattern for `--pinned-tag` / `--moving-tag`: a regular expression that must match the
/// whole tag.
#[derive(Debug, Clone)]
pub struct TagPattern(Regex);

impl std::str::FromStr for TagPattern {
    type Err = regex::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Checked alone first, so that an error shows the pattern as written.
        Regex::new(s)?;
        Regex::new(&format!("^(?:{s})$")).map(TagPattern)
    }
}

impl TagPattern {
    fn matches(&self, tag: &str) -> bool {
        self.0.is_match(tag)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        let s = self.0.as_str();
        s.strip_prefix("^(?:")
            .and_then(|s| s.strip_suffix(")$"))
            .unwrap_or(s)
    }
}

/// Which tags count as moving (`plus.image-tag`): the user's patterns first (`moving` before
/// `pinned`), then whether the tag looks like a version.
#[derive(Debug, Clone, Default)]
pub struct TagPolicy {
    /// Tags taken as fixed versions although they do not look like one (`--pinned-tag`).
    pub pinned: Vec<TagPattern>,
    /// Tags taken as moving although they look like a version (`--moving-tag`).
    pub moving: Vec<TagPattern>,
}

/// How a tag is judged.
#[derive(Debug, PartialEq, Eq)]
pub enum TagVerdict<'p> {
    /// A version (or a commit id), or a `--pinned-tag` pattern matched.
    Pinned,
    /// `latest`: the tag every registry moves.
    Latest,
    /// Looks like no version: `stable`, `main`, `feature-x`, `13.x.y`.
    NoVersion,
    /// A version-like tag that names a moving build (`1.2-nightly`, `2-SNAPSHOT`).
    MovingWord,
    /// A `--moving-tag` pattern matched.
    Moving(&'p str),
}

/// A version as image tags spell them: `1`, `v1.27.3`, `2024.01.15`, `20240115`, each with an
/// optional suffix after `-`, `+` or `_` (`1.2.3-alpine`, `16.4-debian-12-r7`, `1.0+build.5`);
/// or a commit id (7 to 40 hex digits, optionally `sha-` before it).
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[vV]?[0-9]+(?:\.[0-9]+)*(?:[-+_][A-Za-z0-9][A-Za-z0-9._+-]*)?|(?:sha-)?[0-9a-f]{7,40})$",
    )
    .expect("version pattern")
});

/// Words that make a version-like tag a moving one: builds published again under one tag.
static MOVING_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[-+_.])(?:latest|nightly|snapshot|edge|dev|main|master)(?:$|[-+_.])")
        .expect("moving words")
});

impl TagPolicy {
    pub fn judge(&self, tag: &str) -> TagVerdict<'_> {
        if let Some(p) = self.moving.iter().find(|p| p.matches(tag)) {
            return TagVerdict::Moving(p.as_str());
        }
        if self.pinned.iter().any(|p| p.matches(tag)) {
            return TagVerdict::Pinned;
        }
        if tag == "latest" {
            TagVerdict::Latest
        } else if !VERSION.is_match(tag) {
            TagVerdict::NoVersion
        } else if MOVING_WORD.is_match(tag) {
            TagVerdict::MovingWord
        } else {
            TagVerdict::Pinned
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(image: &str) -> (Option<&str>, Option<&str>) {
        let r = parse(image).unwrap_or_else(|e| panic!("{image}: {e}"));
        (r.tag, r.digest)
    }

    #[test]
    fn tags_digests_and_ports() {
        let sha = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(parts("nginx"), (None, None));
        assert_eq!(parts("registry:5000/team/app"), (None, None));
        assert_eq!(parts("registry:5000/team/app:1.2"), (Some("1.2"), None));
        assert_eq!(parts(&format!("app:1.2@{sha}")), (Some("1.2"), Some(sha)));
        assert_eq!(parts(&format!("app@{sha}")), (None, Some(sha)));
        assert_eq!(parts("[::1]:5000/app:v1"), (Some("v1"), None));
        assert_eq!(
            parts("Registry.Example.org/a/b__c:x_Y"),
            (Some("x_Y"), None)
        );
        assert_eq!(
            parse("registry:5000/team/app:1.2").unwrap().name,
            "registry:5000/team/app"
        );
    }

    /// [`split`] cuts every reference the grammar accepts where the grammar's groups do: the
    /// references of the other tests, and every combination of hosts, ports, paths, tags and
    /// digests (with the separators and characters that could be mistaken for one another).
    #[test]
    fn split_is_the_grammars_grouping() {
        let grouped = Regex::new(&reference_pattern()).unwrap();
        let sha = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let hosts = [
            "",
            "registry/",
            "registry:5000/",
            "Reg.Example.org:443/",
            "[::1]:5000/",
            "[fe80::1]/",
            "a-b.c/",
            "localhost:5000/",
        ];
        let paths = ["app", "team/app", "a__b/c.d/e--f", "x_y/z-1", "5000"];
        let tags = [
            "",
            ":1",
            ":v1.2.3-alpine",
            ":x_Y",
            ":5000",
            ":_a.b-c",
            ":latest",
        ];
        let digests = [
            String::new(),
            format!("@{sha}"),
            "@foo+bar:0123456789abcdef0123456789abcdef".to_owned(),
        ];
        let mut checked = 0;
        for host in hosts {
            for path in paths {
                for tag in tags {
                    for digest in &digests {
                        let image = format!("{host}{path}{tag}{digest}");
                        let caps = grouped
                            .captures(&image)
                            .unwrap_or_else(|| panic!("{image} should be valid"));
                        let expected = (
                            caps.get(1).unwrap().as_str(),
                            caps.get(2).map(|m| m.as_str()),
                            caps.get(3).map(|m| m.as_str()),
                        );
                        assert_eq!(split(&image), expected, "{image}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 8 * 5 * 7 * 3);
    }

    /// Docker Hub's expansion as containerd applies it (distribution's `normalize_test.go`
    /// cases among them), hosts with ports, IPv6 hosts, and capital letters in a host.
    #[test]
    fn names_normalise_as_the_runtime_reads_them() {
        let sha = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let cases = [
            ("nginx", "docker.io/library/nginx"),
            ("nginx:1.27", "docker.io/library/nginx"),
            ("library/nginx", "docker.io/library/nginx"),
            ("docker.io/nginx", "docker.io/library/nginx"),
            ("docker.io/library/nginx", "docker.io/library/nginx"),
            ("index.docker.io/x", "docker.io/library/x"),
            ("index.docker.io/org/x", "docker.io/org/x"),
            ("INDEX.docker.io/org/x", "docker.io/org/x"),
            ("org/app", "docker.io/org/app"),
            ("org/team/app", "docker.io/org/team/app"),
            ("localhost/x", "localhost/x"),
            ("localhost:5000/x", "localhost:5000/x"),
            ("registry:5000/a/b", "registry:5000/a/b"),
            ("registry.example.nl/app", "registry.example.nl/app"),
            ("Registry.Example.NL/app", "registry.example.nl/app"),
            // A capital letter makes the first component a host (it cannot be a path).
            ("Registry/app", "registry/app"),
            ("[::1]:5000/app", "[::1]:5000/app"),
            // A first component without `.` or `:` is a Docker Hub organisation, not a host.
            ("registry/app", "docker.io/registry/app"),
            ("ghcr.io/gemeente-x/app", "ghcr.io/gemeente-x/app"),
        ];
        for (image, expected) in cases {
            let r = parse(image).unwrap_or_else(|e| panic!("{image}: {e}"));
            assert_eq!(normalised_name(r.name), expected, "{image}");
        }
        let digested = format!("registry:5000/a/b@{sha}");
        let r = parse(&digested).unwrap();
        assert_eq!(normalised_name(r.name), "registry:5000/a/b");
        assert_eq!(r.digest, Some(sha));
        // Uppercase in the path is refused by the grammar before any normalising.
        assert_eq!(
            parse("docker.io/Library/nginx"),
            Err(InvalidReference::Uppercase)
        );
    }

    #[test]
    fn what_the_runtime_refuses() {
        use InvalidReference::*;
        let bad = [
            ("app:", Format),
            ("app:-1", Format),
            ("app:.1", Format),
            ("app:1 ", Format),
            (" app:1", Format),
            ("app:1:2", Format),
            ("app:ü", Format),
            (&*format!("app:{}", "1".repeat(129)), Format),
            ("app@sha256:abc", Format),
            ("app@sha256:0123456789abcdef0123456789abcdef", DigestLength),
            ("Team/App:1", Uppercase),
            ("app//x", Format),
            ("-app", Format),
            ("", Format),
            ("{{ .Values.image }}", Format),
            (&*format!("{}:1", "a".repeat(256)), NameTooLong),
        ];
        for (image, why) in bad {
            assert_eq!(parse(image), Err(why), "{image:?}");
        }
        assert!(parse(&format!("app:{}", "1".repeat(128))).is_ok());
        // An unregistered algorithm is left to the registry.
        assert!(parse("app@foo:0123456789abcdef0123456789abcdef").is_ok());
    }

    #[test]
    fn tags_that_are_versions() {
        let policy = TagPolicy::default();
        for pinned in [
            "1",
            "1.27",
            "v1.27.3",
            "16.4-debian-12-r7",
            "1.2.3-alpine",
            "1.0+build.5",
            "2024.01.15",
            "20240115",
            "3.19_1",
            "a1b2c3d",
            "sha-0123456789abcdef0123456789abcdef01234567",
        ] {
            assert_eq!(policy.judge(pinned), TagVerdict::Pinned, "{pinned}");
        }
        for moving in [
            "stable",
            "main",
            "feature-debug-build",
            "13.x.y",
            "alpine",
            "v1.x",
        ] {
            assert_eq!(policy.judge(moving), TagVerdict::NoVersion, "{moving}");
        }
        for word in ["1.2-nightly", "2-SNAPSHOT", "3.0.0-dev", "1-latest"] {
            assert_eq!(policy.judge(word), TagVerdict::MovingWord, "{word}");
        }
        assert_eq!(policy.judge("latest"), TagVerdict::Latest);
        assert_eq!(policy.judge("1.0-development"), TagVerdict::Pinned);
    }

    #[test]
    fn patterns_decide_before_the_shape() {
        let policy = TagPolicy {
            pinned: vec!["RELEASE\\..*".parse().unwrap(), "stable".parse().unwrap()],
            moving: vec!["[0-9]+".parse().unwrap(), "stable".parse().unwrap()],
        };
        assert_eq!(
            policy.judge("RELEASE.2024-01-01T00-00-00Z"),
            TagVerdict::Pinned
        );
        assert_eq!(policy.judge("13"), TagVerdict::Moving("[0-9]+"));
        assert_eq!(policy.judge("13.1"), TagVerdict::Pinned, "whole tags only");
        assert_eq!(policy.judge("stable"), TagVerdict::Moving("stable"));
        assert!("(".parse::<TagPattern>().is_err());
    }
}
