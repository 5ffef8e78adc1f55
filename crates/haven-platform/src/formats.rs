//! The formats of values in `haven-plus.yaml`, checked when the config is read (with the file,
//! line and key, by `config::parse`), exactly as the program that finally reads each value does:
//! a Go duration as Velero and Flux parse it (`time.ParseDuration`), a cron schedule as Velero
//! parses it (robfig/cron's standard parser), a Kubernetes quantity (`resource.Quantity`), an
//! e-mail address, a host name (RFC 1123, as Kubernetes' `IsDNS1123Subdomain`), a CIDR or an
//! address range (MetalLB's pool syntax). A value the config accepts is then one the cluster
//! accepts, instead of a Schedule Velero marks `FailedValidation` days later.
//!
//! Pure, no I/O; every check returns a [`FormatError`] saying what is wrong with the value.

use std::net::IpAddr;
use std::str::FromStr;

/// Why a value does not have its format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("`{value}` is not a Go duration ({why}; e.g. `168h`, `1h30m`, `90s`)")]
    Duration { value: String, why: &'static str },
    #[error(
        "`{value}` is not a cron schedule as Velero reads it ({why}; e.g. `0 2 * * *`, `@daily`)"
    )]
    Cron { value: String, why: String },
    #[error("`{value}` is not a Kubernetes quantity ({why}; e.g. `4`, `500m`, `8Gi`)")]
    Quantity { value: String, why: String },
    #[error("`{value}` is not a volume size ({why})")]
    VolumeSize { value: String, why: &'static str },
    #[error("`{value}` is not an e-mail address ({why})")]
    Email { value: String, why: String },
    #[error(
        "`{value}` is not a host name ({why}; RFC 1123: lowercase letters, digits, '-' and '.', each label at most 63 characters)"
    )]
    Hostname { value: String, why: &'static str },
    #[error("`{value}` is not a CIDR ({why}; e.g. `192.168.10.0/24`, `2001:db8::/64`)")]
    Cidr { value: String, why: String },
    #[error("`{value}` must be longer than zero")]
    NotPositive { value: String },
    #[error("`{value}` is not `{of}` or a parent of it")]
    NotParent { value: String, of: String },
    #[error(
        "`{value}` is not an S3 endpoint ({why}; e.g. `https://s3.example.nl`, `https://10.1.2.3:9000`)"
    )]
    Endpoint { value: String, why: String },
    #[error("`{value}` is not an S3 bucket name ({why}; e.g. `haven-backups`)")]
    Bucket { value: String, why: &'static str },
    #[error(
        "`{value}` is not `host:port` ({why}; e.g. `smtp.example.nl:587`, `[2001:db8::25]:25`)"
    )]
    HostPort { value: String, why: String },
    #[error(
        "`{value}` is not a secret store path (e.g. `platform/backups/s3`: segments of letters, digits, '-', '_', '.')"
    )]
    StorePath { value: String },
    #[error(
        "`{value}` is not an image registry prefix ({why}; a registry host, then optional path: `registry.example.nl`, `ghcr.io/gemeente-x`, `docker.io/library`)"
    )]
    RegistryPrefix { value: String, why: &'static str },
}

/// A Go duration (`time.ParseDuration`): an optional sign, then one or more decimal numbers
/// each with a unit (`ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`), or `0`. Returns nanoseconds.
///
/// Written by hand: jiff's duration formats (ISO 8601 and its "friendly" format) also accept
/// days, weeks, spaces and unit words (`1d`, `2 hours`) that Go refuses, and refuse nothing Go
/// accepts would not be the same as reading it as Velero and Flux do.
pub fn go_duration(value: &str) -> Result<i128, FormatError> {
    let err = |why| FormatError::Duration {
        value: value.to_owned(),
        why,
    };
    let mut s = value;
    let negative = match s.as_bytes().first() {
        Some(b'-') => {
            s = &s[1..];
            true
        }
        Some(b'+') => {
            s = &s[1..];
            false
        }
        _ => false,
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err("empty"));
    }
    // Go's limit: the total must fit an int64 of nanoseconds.
    const MAX: i128 = i64::MAX as i128;
    let mut total: i128 = 0;
    while !s.is_empty() {
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let (int, rest) = s.split_at(int_len);
        let (frac, rest) = match rest.strip_prefix('.') {
            Some(r) => {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                r.split_at(n)
            }
            None => ("", rest),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(err("a number is missing"));
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(i, _)| i);
        let (unit, rest) = rest.split_at(unit_len);
        let scale: i128 = match unit {
            "" => return Err(err("a unit is missing")),
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(err("unknown unit: one of ns, us, ms, s, m, h")),
        };
        let whole: i128 = if int.is_empty() {
            0
        } else {
            int.parse::<i128>()
                .ok()
                .filter(|n| *n <= MAX)
                .ok_or(err("out of range"))?
        };
        let mut part = whole
            .checked_mul(scale)
            .filter(|n| *n <= MAX)
            .ok_or(err("out of range"))?;
        // The fraction, to the nanosecond (Go drops what is below it).
        let mut f_scale = scale;
        for d in frac.bytes() {
            f_scale /= 10;
            if f_scale == 0 {
                break;
            }
            part += i128::from(d - b'0') * f_scale;
        }
        total += part;
        if total > MAX {
            return Err(err("out of range"));
        }
        s = rest;
    }
    Ok(if negative { -total } else { total })
}

/// A Go duration longer than zero (a TTL).
pub fn positive_go_duration(value: &str) -> Result<i128, FormatError> {
    match go_duration(value)? {
        n if n > 0 => Ok(n),
        _ => Err(FormatError::NotPositive {
            value: value.to_owned(),
        }),
    }
}

/// A cron schedule as Velero reads a Schedule's `spec.schedule`: robfig/cron v3's
/// `ParseStandard` (five fields: minute, hour, day of month, month, day of week; `*`, `?`,
/// lists, ranges, steps, month and weekday names; the descriptors `@yearly`, `@annually`,
/// `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly` and `@every <Go duration>`; an
/// optional `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix).
///
/// Written by hand: the `cron` crate wants a seconds field, and croner also accepts Quartz's
/// `L`, `W` and `#` and a seconds field, which Velero refuses; what this accepts is exactly
/// what robfig's parser does (one place is stricter: `*-5`, which robfig silently reads as
/// `*`), so a Schedule never fails validation in the cluster.
pub fn velero_cron(value: &str) -> Result<(), FormatError> {
    let err = |why: String| FormatError::Cron {
        value: value.to_owned(),
        why,
    };
    let mut spec = value.trim();
    if spec.is_empty() {
        return Err(err("empty".to_owned()));
    }
    for prefix in ["CRON_TZ=", "TZ="] {
        if let Some(rest) = spec.strip_prefix(prefix) {
            let (zone, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let zone_ok = !zone.is_empty()
                && zone
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+-/".contains(c));
            if !zone_ok {
                return Err(err(format!("`{zone}` is not a time zone name")));
            }
            spec = rest.trim();
            break;
        }
    }
    if let Some(d) = spec.strip_prefix('@') {
        if let Some(every) = d.strip_prefix("every ") {
            return go_duration(every.trim()).map(|_| ()).map_err(|_| {
                err(format!(
                    "`{}` after @every is not a Go duration",
                    every.trim()
                ))
            });
        }
        return match d {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ => Err(err(format!("unknown descriptor `@{d}`"))),
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(err(format!(
            "{} fields; minute, hour, day of month, month and day of week are five",
            fields.len()
        )));
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let bounds: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day of month", 1, 31, &[], 0),
        ("month", 1, 12, MONTHS, 1),
        ("day of week", 0, 6, DAYS, 0),
    ];
    for (field, (name, min, max, names, first)) in fields.iter().zip(bounds) {
        for expr in field.split(',') {
            cron_range(expr, min, max, names, first, &|why| {
                err(format!("{name}: {why}"))
            })?;
        }
    }
    Ok(())
}

/// One comma-separated part of a cron field (robfig/cron's `getRange`).
fn cron_range(
    expr: &str,
    min: u32,
    max: u32,
    names: &[&str],
    first: u32,
    err: &dyn Fn(String) -> FormatError,
) -> Result<(), FormatError> {
    let number = |s: &str| -> Result<u32, FormatError> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + first);
        }
        if s.starts_with('-') {
            return Err(err(format!("negative number `{s}`")));
        }
        s.parse::<u32>()
            .map_err(|_| err(format!("`{s}` is not a number")))
    };
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        if !single {
            return Err(err(format!("`{expr}`: a range cannot start with `*`")));
        }
        (min, max)
    } else {
        let start = number(low_and_high[0])?;
        match low_and_high.len() {
            1 => (start, start),
            2 => (start, number(low_and_high[1])?),
            _ => return Err(err(format!("`{expr}`: too many hyphens"))),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            if single {
                end = max;
            }
            number(range_and_step[1])?
        }
        _ => return Err(err(format!("`{expr}`: too many slashes"))),
    };
    if start < min {
        return Err(err(format!("{start} is below the minimum {min}")));
    }
    if end > max {
        return Err(err(format!("{end} is above the maximum {max}")));
    }
    if start > end {
        return Err(err(format!("`{expr}`: the range starts after it ends")));
    }
    if step == 0 {
        return Err(err(format!("`{expr}`: the step must be positive")));
    }
    Ok(())
}

/// A Kubernetes quantity (`resource.Quantity`).
pub fn quantity(value: &str) -> Result<haven_model::Quantity, FormatError> {
    haven_model::Quantity::parse(value).map_err(|e| FormatError::Quantity {
        value: value.to_owned(),
        why: e.to_string(),
    })
}

/// A volume size: a Kubernetes quantity of whole bytes, at least 1Mi; in bytes.
pub fn volume_size(value: &str) -> Result<u64, FormatError> {
    let nanos = quantity(value)?.nanos();
    let err = |why| FormatError::VolumeSize {
        value: value.to_owned(),
        why,
    };
    if nanos % 1_000_000_000 != 0 {
        return Err(err("a whole number of bytes"));
    }
    match u64::try_from(nanos / 1_000_000_000) {
        Ok(b) if b >= 1 << 20 => Ok(b),
        _ => Err(err("at least 1Mi")),
    }
}

/// An e-mail address (RFC 5322's addr-spec, through the `email_address` crate) whose domain is
/// a host name with a dot: what an ACME server such as Let's Encrypt takes as a contact (it
/// refuses `root@localhost` and addresses at IP literals).
pub fn email(value: &str) -> Result<(), FormatError> {
    let err = |why: String| FormatError::Email {
        value: value.to_owned(),
        why,
    };
    let parsed = email_address::EmailAddress::from_str(value).map_err(|e| err(e.to_string()))?;
    let domain = parsed.domain();
    if !domain.contains('.') {
        return Err(err(format!("`{domain}` is not a public domain")));
    }
    hostname(domain).map_err(|_| err(format!("`{domain}` is not a host name")))?;
    Ok(())
}

/// A host name as Kubernetes checks one (`IsDNS1123Subdomain`): at most 253 characters,
/// dot-separated labels of at most 63 lowercase letters, digits and '-', each starting and
/// ending with a letter or digit.
pub fn hostname(value: &str) -> Result<(), FormatError> {
    let err = |why| FormatError::Hostname {
        value: value.to_owned(),
        why,
    };
    if value.is_empty() {
        return Err(err("empty"));
    }
    if value.len() > 253 {
        return Err(err("longer than 253 characters"));
    }
    for label in value.split('.') {
        if label.is_empty() {
            return Err(err("an empty label"));
        }
        if label.len() > 63 {
            return Err(err("a label longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err("a character outside a-z, 0-9, '-' and '.'"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(err("a label starts or ends with '-'"));
        }
    }
    Ok(())
}

/// A host name a route may claim: a host name, or a wildcard `*.` followed by one (as the
/// Gateway API's `hostnames` and cert-manager's `dnsNames` take them).
pub fn hostname_pattern(value: &str) -> Result<(), FormatError> {
    hostname(value.strip_prefix("*.").unwrap_or(value)).map_err(|e| match e {
        FormatError::Hostname { why, .. } => FormatError::Hostname {
            value: value.to_owned(),
            why,
        },
        other => other,
    })
}

/// An image reference prefix the admission engine compares images with (the contract in
/// docs/admission.md, "Tenant policy"). The grammar is haven-rules' own
/// ([`haven_rules::RegistryPrefix`], the parser the webhook reads the annotation with), so a
/// prefix the config accepts is one the webhook reads the same way. The config is stricter in
/// two ways, because what is written here is copied verbatim into Namespace annotations and
/// Kyverno patterns: the host is required (a dot, a port or `localhost`, as containerd tells a
/// host from a Docker Hub organisation: `library/nginx` would silently mean
/// `docker.io/library/nginx`), and the prefix is written as the engine stores it (lowercase
/// host, no trailing `/`, port 1-65535).
pub fn registry_prefix(value: &str) -> Result<(), FormatError> {
    let err = |why| FormatError::RegistryPrefix {
        value: value.to_owned(),
        why,
    };
    if value.is_empty() {
        return Err(err("empty"));
    }
    let host = value.split('/').next().unwrap_or_default();
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if !(name.contains('.') || port.is_some() || name == "localhost") {
        return Err(err("no registry host first"));
    }
    if hostname(name).is_err() {
        return Err(err("the registry is not a host name"));
    }
    if let Some(p) = port
        && !p.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(err("the port is not 1-65535"));
    }
    if value.ends_with('/') || value.trim() != value {
        return Err(err("a trailing '/' or space"));
    }
    match value.parse::<haven_rules::RegistryPrefix>() {
        Ok(_) => Ok(()),
        Err(haven_rules::tenant::InvalidPattern::TagOrDigest(_)) => Err(err("a tag or digest")),
        Err(_) => Err(err(
            "a path component that is not lowercase letters and digits separated by '.', '_' or '-'",
        )),
    }
}

/// A host name or an IP address (a DNS server to send updates to).
pub fn host(value: &str) -> Result<(), FormatError> {
    if IpAddr::from_str(value).is_ok() {
        return Ok(());
    }
    hostname(value)
}

/// A CIDR, IPv4 or IPv6, with no bits set after the prefix (`10.0.0.1/8` is refused: the
/// network is `10.0.0.0/8`; Kubernetes and MetalLB read a CIDR as a network).
pub fn cidr(value: &str) -> Result<ipnet::IpNet, FormatError> {
    let err = |why: String| FormatError::Cidr {
        value: value.to_owned(),
        why,
    };
    let net = ipnet::IpNet::from_str(value).map_err(|_| {
        err(if value.contains('/') {
            "not an address and prefix length".to_owned()
        } else {
            "no prefix length".to_owned()
        })
    })?;
    if net.trunc() != net {
        return Err(err(format!(
            "bits set after the prefix; the network is {}",
            net.trunc()
        )));
    }
    Ok(net)
}

/// A CIDR, or a range `first-last` of addresses of one family with `first <= last` (MetalLB's
/// `IPAddressPool` addresses).
pub fn cidr_or_range(value: &str) -> Result<(), FormatError> {
    let Some((a, b)) = value.split_once('-') else {
        return cidr(value).map(|_| ());
    };
    let err = |why: &str| FormatError::Cidr {
        value: value.to_owned(),
        why: why.to_owned(),
    };
    let (a, b) = (a.trim(), b.trim());
    let (Ok(a), Ok(b)) = (IpAddr::from_str(a), IpAddr::from_str(b)) else {
        return Err(err("a range is two addresses `first-last`"));
    };
    if a.is_ipv4() != b.is_ipv4() {
        return Err(err("a range's addresses are of two families"));
    }
    if a > b {
        return Err(err("the range starts after it ends"));
    }
    Ok(())
}

/// An S3 endpoint as Velero's AWS plugin and barman-cloud read one (`s3Url`,
/// `endpointURL`): `https://host[:port]`, nothing after the authority. Plain `http` is refused
/// for a target outside the cluster: the backups, with every database and volume in them,
/// would cross the network unencrypted. Returns the host and the port.
pub fn s3_endpoint(value: &str) -> Result<(String, u16), FormatError> {
    let err = |why: &str| FormatError::Endpoint {
        value: value.to_owned(),
        why: why.to_owned(),
    };
    let Some(rest) = value.strip_prefix("https://") else {
        return Err(err(if value.starts_with("http://") {
            "plain http would carry the backups unencrypted: use https"
        } else {
            "it does not start with https://"
        }));
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return Err(err("a path, query or user part; give the endpoint only"));
    }
    // `[v6]:port`, `host:port`, `host`.
    let (name, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((h, after)) = v6.split_once(']') else {
            return Err(err("an unclosed `[`"));
        };
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => 443,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| err("the port is not a number from 1 to 65535"))?,
    };
    host(name).map_err(|e| err(&e.to_string()))?;
    Ok((name.to_owned(), port))
}

/// A server as `host:port`, the way Alertmanager's `smarthost` is read (Go's
/// `net.SplitHostPort`: an IPv6 address in brackets), with a host name or an IP address and a
/// port from 1 to 65535. Returns the host and the port.
pub fn host_port(value: &str) -> Result<(String, u16), FormatError> {
    let err = |why: &str| FormatError::HostPort {
        value: value.to_owned(),
        why: why.to_owned(),
    };
    let (name, port) = if let Some(v6) = value.strip_prefix('[') {
        let Some((h, after)) = v6.split_once(']') else {
            return Err(err("an unclosed `[`"));
        };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(err("not an IPv6 address in brackets"));
        }
        (h, after.strip_prefix(':'))
    } else {
        match value.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => {
                return Err(err("an IPv6 address goes in brackets"));
            }
            Some((h, p)) => (h, Some(p)),
            None => (value, None),
        }
    };
    let Some(port) = port else {
        return Err(err("no port"));
    };
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| err("the port is not a number from 1 to 65535"))?;
    if !name.contains(':') {
        host(name).map_err(|e| err(&e.to_string()))?;
    }
    Ok((name.to_owned(), port))
}

/// A path in the secret store (OpenBao's KV): segments of letters, digits, '-', '_' and '.',
/// none empty, `.` or `..`.
pub fn store_path(value: &str) -> Result<(), FormatError> {
    let segment_ok = |seg: &str| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    };
    if value.split('/').all(segment_ok) {
        Ok(())
    } else {
        Err(FormatError::StorePath {
            value: value.to_owned(),
        })
    }
}

/// An S3 bucket name by AWS's rules, which S3-compatible stores follow: 3 to 63 characters of
/// lowercase letters, digits, '.' and '-', starting and ending with a letter or digit.
pub fn s3_bucket(value: &str) -> Result<(), FormatError> {
    let err = |why| FormatError::Bucket {
        value: value.to_owned(),
        why,
    };
    if !(3..=63).contains(&value.len()) {
        return Err(err("not 3 to 63 characters"));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(err("a character outside a-z, 0-9, '-' and '.'"));
    }
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge(value.as_bytes()[0]) || !edge(value.as_bytes()[value.len() - 1]) {
        return Err(err("it starts or ends with '-' or '.'"));
    }
    if value.contains("..") {
        return Err(err("two dots in a row"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_endpoints_and_buckets() {
        assert_eq!(
            s3_endpoint("https://s3.example.nl"),
            Ok(("s3.example.nl".to_owned(), 443))
        );
        assert_eq!(
            s3_endpoint("https://10.1.2.3:9000/"),
            Ok(("10.1.2.3".to_owned(), 9000))
        );
        assert_eq!(
            s3_endpoint("https://[2001:db8::1]:9000"),
            Ok(("2001:db8::1".to_owned(), 9000))
        );
        for bad in [
            "http://s3.example.nl",
            "s3.example.nl",
            "https://s3.example.nl/bucket",
            "https://s3.example.nl:0",
            "https://s3.example.nl:99999",
            "https://S3.Example.nl",
            "https://",
        ] {
            assert!(
                matches!(s3_endpoint(bad), Err(FormatError::Endpoint { .. })),
                "{bad}"
            );
        }
        assert_eq!(s3_bucket("haven-backups.prod"), Ok(()));
        for bad in ["ab", "Haven", "-x-y", "x..y", "a_b", "bucket-"] {
            assert!(
                matches!(s3_bucket(bad), Err(FormatError::Bucket { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn go_durations_as_time_parse_duration_reads_them() {
        const S: i128 = 1_000_000_000;
        for (text, ns) in [
            ("0", 0),
            ("+0", 0),
            ("168h0m0s", 168 * 3600 * S),
            ("168h", 168 * 3600 * S),
            ("1h30m", 5400 * S),
            ("1.5h", 5400 * S),
            (".5s", S / 2),
            ("1.s", S),
            ("300ms", 300_000_000),
            ("2us", 2_000),
            ("2\u{b5}s", 2_000),
            ("2\u{3bc}s", 2_000),
            ("-1m", -60 * S),
            ("1h1h", 7200 * S),
            ("2562047h", 2_562_047 * 3600 * S),
        ] {
            assert_eq!(go_duration(text), Ok(ns), "{text}");
        }
        for bad in [
            "",
            "+",
            "-",
            "1",
            "1d",
            "1w",
            "1 h",
            "h",
            ".s",
            "1.5",
            "1hh",
            "1H",
            "1h 30m",
            "3000000h",
            "9223372036854775808ns",
            "P1D",
            "1e3s",
        ] {
            assert!(
                matches!(go_duration(bad), Err(FormatError::Duration { .. })),
                "{bad}: {:?}",
                go_duration(bad)
            );
        }
        assert!(positive_go_duration("0s").is_err());
        assert!(positive_go_duration("-1h").is_err());
        assert!(positive_go_duration("1ns").is_ok());
    }

    #[test]
    fn registry_prefixes_and_host_patterns() {
        for good in [
            "registry.example.nl",
            "ghcr.io/gemeente-x",
            "docker.io/library",
            "localhost:5000/team",
            "registry.example.nl:443/a/b_c/d.e",
        ] {
            assert_eq!(registry_prefix(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "nginx",
            "library/nginx",
            "ghcr.io/x:1.0",
            "ghcr.io/x@sha256:00",
            "ghcr.io/",
            "ghcr.io/Gemeente",
            "Ghcr.io/x",
            "ghcr.io:0/x",
            "ghcr.io/-x",
        ] {
            assert!(
                matches!(
                    registry_prefix(bad),
                    Err(FormatError::RegistryPrefix { .. })
                ),
                "{bad}"
            );
        }
        for good in ["app.gemeente.nl", "*.apps.gemeente.nl"] {
            assert_eq!(hostname_pattern(good), Ok(()), "{good}");
        }
        for bad in ["", "*", "*.", "a.*.nl", "**.nl", "App.nl"] {
            assert!(
                matches!(hostname_pattern(bad), Err(FormatError::Hostname { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn cron_schedules_as_velero_reads_them() {
        for good in [
            "0 2 * * *",
            "*/15 * * * *",
            "0 0 1 jan *",
            "0 0 * * MON-FRI",
            "5,35 1-3 ? * sun",
            "0 3 */2 * 1",
            "30 4 1/3 * *",
            "@daily",
            "@midnight",
            "@every 6h",
            "CRON_TZ=Europe/Amsterdam 0 2 * * *",
            "TZ=UTC @hourly",
            "  0 2 * * *  ",
        ] {
            assert_eq!(velero_cron(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "0 2 * *",
            "0 0 2 * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 7",
            "0 2 L * *",
            "0 2 * * 1#2",
            "5-1 * * * *",
            "*/0 * * * *",
            "1-2-3 * * * *",
            "1/2/3 * * * *",
            "-1 * * * *",
            "*-5 * * * *",
            "@often",
            "@every 1d",
            "CRON_TZ= 0 2 * * *",
            "0 2 * * * # nightly",
        ] {
            assert!(
                matches!(velero_cron(bad), Err(FormatError::Cron { .. })),
                "{bad}: {:?}",
                velero_cron(bad)
            );
        }
    }

    #[test]
    fn quantities_emails_hosts_and_cidrs() {
        assert!(quantity("1.5Gi").is_ok() && quantity("500m").is_ok());
        for bad in ["", "1.5GB", "ten", "1Gi ", "--1"] {
            assert!(
                matches!(quantity(bad), Err(FormatError::Quantity { .. })),
                "{bad}"
            );
        }
        assert_eq!(email("platform@gemeente.example.nl"), Ok(()));
        assert_eq!(email("beheer+acme@example.nl"), Ok(()));
        for bad in [
            "platform",
            "platform@",
            "@example.nl",
            "root@localhost",
            "a b@example.nl",
            "a@[10.0.0.1]",
            "a@Example_.nl",
        ] {
            assert!(
                matches!(email(bad), Err(FormatError::Email { .. })),
                "{bad}: {:?}",
                email(bad)
            );
        }
        for good in ["example.nl", "ns1.example.nl", "a", "x-1.y2"] {
            assert_eq!(hostname(good), Ok(()), "{good}");
        }
        let long_label = format!("{}.nl", "a".repeat(64));
        let long_name = ["a".repeat(63).as_str(); 5].join(".");
        for bad in [
            "",
            "Example.nl",
            "-a.nl",
            "a-.nl",
            "a..nl",
            ".nl",
            "a.nl.",
            "*.nl",
            "a_b.nl",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert!(
                matches!(hostname(bad), Err(FormatError::Hostname { .. })),
                "{bad}"
            );
        }
        assert!(
            host("192.0.2.53").is_ok()
                && host("2001:db8::53").is_ok()
                && host("ns1.example.nl").is_ok()
        );
        assert!(host("ns1 example").is_err());
        for good in [
            "10.0.0.0/8",
            "192.168.10.0/24",
            "192.168.10.7/32",
            "2001:db8::/64",
            "0.0.0.0/0",
        ] {
            assert!(cidr(good).is_ok(), "{good}");
            assert!(cidr_or_range(good).is_ok(), "{good}");
        }
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "2001:db8::1/64",
            "x/8",
        ] {
            assert!(matches!(cidr(bad), Err(FormatError::Cidr { .. })), "{bad}");
        }
        assert!(cidr_or_range("192.168.10.10-192.168.10.20").is_ok());
        assert!(cidr_or_range("192.168.10.10 - 192.168.10.20").is_ok());
        for bad in [
            "192.168.10.20-192.168.10.10",
            "192.168.10.10-2001:db8::1",
            "a-b",
            "10.0.0.1/8",
        ] {
            assert!(
                matches!(cidr_or_range(bad), Err(FormatError::Cidr { .. })),
                "{bad}"
            );
        }
    }
}
