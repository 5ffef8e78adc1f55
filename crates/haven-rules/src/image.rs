//! Container image references: just enough of the reference grammar to tell tag and digest.

/// The parts of `registry:5000/team/app:1.2@sha256:…` that pinning cares about.
#[derive(Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

pub fn parse(image: &str) -> ImageRef<'_> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    // A ':' after the last '/' separates the tag; one before it belongs to a registry port.
    let last = name.rsplit('/').next().unwrap_or(name);
    let tag = last
        .rsplit_once(':')
        .map(|(_, t)| t)
        .filter(|t| !t.is_empty());
    ImageRef { tag, digest }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_digests_and_ports() {
        assert_eq!(
            parse("nginx"),
            ImageRef {
                tag: None,
                digest: None
            }
        );
        assert_eq!(
            parse("registry:5000/team/app"),
            ImageRef {
                tag: None,
                digest: None
            }
        );
        assert_eq!(
            parse("registry:5000/team/app:1.2"),
            ImageRef {
                tag: Some("1.2"),
                digest: None
            }
        );
        assert_eq!(
            parse("app:1.2@sha256:abc"),
            ImageRef {
                tag: Some("1.2"),
                digest: Some("sha256:abc")
            }
        );
        assert_eq!(
            parse("app@sha256:abc"),
            ImageRef {
                tag: None,
                digest: Some("sha256:abc")
            }
        );
    }
}
