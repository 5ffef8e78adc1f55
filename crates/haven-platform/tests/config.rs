//! The config file: strict keys with line and "did you mean", conflicting choices, migration,
//! the committed JSON Schema.

use std::path::PathBuf;

use haven_platform::config::{self, PlatformConfig, Provider};
use haven_platform::{Catalogue, ConfigError};
use serde_json::Value;

fn parse(text: &str) -> Result<PlatformConfig, Vec<ConfigError>> {
    config::parse("haven-plus.yaml", text, &Catalogue::builtin().unwrap()).map(|(c, _)| c)
}

fn errors(text: &str) -> Vec<ConfigError> {
    match parse(text) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e,
    }
}

const MINIMAL: &str =
    "version: 1\ncluster:\n  name: haven\n  domain: example.nl\n  provider: cyso\n";

#[test]
fn init_writes_a_config_that_reads_back_as_the_defaults() {
    for p in Provider::ALL {
        let c = PlatformConfig::new("haven", "example.nl", p);
        let text = config::init_yaml(&c);
        assert_eq!(parse(&text).unwrap(), c, "{}", p.name());
    }
    let minimal = parse(MINIMAL).unwrap();
    assert_eq!(
        minimal,
        PlatformConfig::new("haven", "example.nl", Provider::Cyso)
    );
}

#[test]
fn kubernetes_version_accepts_the_supported_window() {
    for minor in haven_platform::validate::SUPPORTED_KUBERNETES {
        let c = parse(&format!("{MINIMAL}  kubernetesVersion: \"{minor}\"\n")).unwrap();
        assert_eq!(&c.cluster.kubernetes_version, minor);
    }
    assert_eq!(parse(MINIMAL).unwrap().cluster.kubernetes_version, "1.37");
    let e = errors(&format!("{MINIMAL}  kubernetesVersion: \"1.34\"\n"));
    assert_eq!(
        (e[0].path.as_str(), e[0].line),
        ("cluster.kubernetesVersion", 6)
    );
    assert_eq!(
        e[0].message,
        "Kubernetes 1.34 is not supported: this build validates against 1.35, 1.36, 1.37"
    );
    // 1.38 is due on 2026-12-16; until a k8s-openapi release carries its API, this build
    // says it does not know it yet.
    let e = errors(&format!("{MINIMAL}  kubernetesVersion: \"1.38\"\n"));
    assert!(
        e[0].message
            .starts_with("Kubernetes 1.38 is newer than this build knows"),
        "{}",
        e[0].message
    );
    // What init writes names the window.
    let text = config::init_yaml(&PlatformConfig::new("haven", "example.nl", Provider::Kind));
    assert!(
        text.contains("kubernetesVersion: \"1.37\"   # 1.35 | 1.36 | 1.37"),
        "{text}"
    );
}

#[test]
fn unknown_keys_name_the_path_and_line_with_a_suggestion() {
    let text = format!(
        "{MINIMAL}capabilities:\n  logs:\n    enabled: true\n  loggs: {{enabled: false}}\n  backups:\n    tll: 24h\n"
    );
    let e = errors(&text);
    assert_eq!(e.len(), 2, "{e:?}");
    let loggs = e.iter().find(|e| e.path == "capabilities.loggs").unwrap();
    assert_eq!(loggs.line, 9);
    assert!(
        loggs.message.contains("did you mean `logs`"),
        "{}",
        loggs.message
    );
    let tll = e
        .iter()
        .find(|e| e.path == "capabilities.backups.tll")
        .unwrap();
    assert_eq!(tll.line, 11);
    assert!(
        tll.message.contains("did you mean `ttl`"),
        "{}",
        tll.message
    );
    assert!(
        tll.describe()
            .starts_with("haven-plus.yaml:11: unknown key `tll`")
    );
    // No suggestion when nothing is close.
    let e = errors(&format!("{MINIMAL}flavour: vanilla\n"));
    assert_eq!(e[0].line, 6);
    assert!(!e[0].message.contains("did you mean"), "{}", e[0].message);
}

#[test]
fn wrong_types_and_values_name_the_path_and_line() {
    let e = errors(&format!(
        "{MINIMAL}capabilities:\n  ingress:\n    implementation: nginx\n"
    ));
    assert_eq!(e[0].path, "capabilities.ingress.implementation");
    assert_eq!(e[0].line, 8);
    assert!(e[0].message.contains("nginx"), "{}", e[0].message);
    let e = errors(&format!(
        "{MINIMAL}tenants:\n- name: a\n  group: g\n  quota: {{pods: many}}\n"
    ));
    assert_eq!(e[0].path, "tenants[0].quota.pods");
    assert_eq!(e[0].line, 9);
    let e = errors("cluster:\n  name: x\n  domain: y\nversion: 7\n");
    assert_eq!(e[0].line, 4);
    assert!(e[0].message.contains("newer"));
    let e = errors("- a\n- b\n");
    assert!(e[0].message.contains("mapping"));
    let e = errors("version: 1\ncluster: [unclosed\n");
    assert!(e[0].line >= 2 && e[0].message.contains("YAML"), "{e:?}");
}

#[test]
fn quantities_are_checked_when_the_config_is_read() {
    let quota = |q: &str| format!("{MINIMAL}tenants:\n- name: a\n  group: g\n  quota:\n    {q}\n");
    let e = errors(&quota("memory: lots"));
    assert_eq!(
        (e[0].path.as_str(), e[0].line),
        ("tenants[0].quota.memory", 10),
        "{e:?}"
    );
    assert!(
        e[0].message.contains("not a Kubernetes quantity"),
        "{}",
        e[0].message
    );
    let e = errors(&quota("cpu: 1.5.5"));
    assert_eq!(e[0].path, "tenants[0].quota.cpu");
    // The memory limit is twice the request: a request whose double Kubernetes cannot hold.
    let e = errors(&quota("memory: 5Ei"));
    assert_eq!(e[0].path, "tenants[0].quota.memory");
    assert!(e[0].message.contains("overflows"), "{}", e[0].message);
    // Numbers are quantities too, as the API server reads them.
    let c = parse(&quota("cpu: 2")).unwrap();
    assert_eq!(c.tenants[0].quota.cpu.to_string(), "2");
}

#[test]
fn tenant_memory_limits_are_exactly_twice_the_request() {
    let rendered = |memory: &str| {
        let text =
            format!("{MINIMAL}tenants:\n- name: a\n  group: g\n  quota:\n    memory: {memory}\n");
        let files =
            haven_platform::render(&parse(&text).unwrap(), &Catalogue::builtin().unwrap()).files;
        files[&PathBuf::from("tenants/a/quota.yaml")].clone()
    };
    // Doubling the leading digits made `1.5Gi` into `2.5Gi`.
    assert!(
        rendered("1.5Gi").contains("limits.memory: 3Gi"),
        "{}",
        rendered("1.5Gi")
    );
    assert!(rendered("16Gi").contains("limits.memory: 32Gi"));
    assert!(
        rendered("0.5G").contains("limits.memory: 1G"),
        "{}",
        rendered("0.5G")
    );
}

#[test]
fn a_second_document_is_an_error_at_its_line() {
    let e = errors(&format!("{MINIMAL}---\n{MINIMAL}"));
    assert_eq!(e[0].line, 7, "{e:?}");
    assert!(e[0].message.contains("second YAML document"), "{e:?}");
}

#[test]
fn every_wrong_type_and_value_is_reported_at_once() {
    let text = "version: 1
cluster:
  name: haven
  domain: example.nl
  provider: previdr
capabilities:
  objectStorage: {enabled: \"yes please\"}
  backups:
    ttl: [7d]
tenants:
- name: a
  group: g
  quota: {pods: many}
";
    let e = errors(text);
    let got: Vec<(&str, u32)> = e.iter().map(|e| (e.path.as_str(), e.line)).collect();
    assert_eq!(
        got,
        [
            ("cluster.provider", 5),
            ("capabilities.objectStorage.enabled", 7),
            ("capabilities.backups.ttl", 9),
            ("tenants[0].quota.pods", 13),
        ],
        "{e:#?}"
    );
    assert!(
        e[0].message
            .contains("`previdr` is not one of previder | cyso"),
        "{}",
        e[0].message
    );
    assert!(e[1].message.contains("boolean"), "{}", e[1].message);
    assert!(e[3].message.contains("many"), "{}", e[3].message);
}

#[test]
fn conflicting_choices_are_explained() {
    // Two ingress implementations.
    let e = errors(&format!(
        "{MINIMAL}components:\n  traefik:\n    enabled: true\n"
    ));
    assert_eq!(e[0].path, "components.traefik.enabled");
    assert_eq!(e[0].line, 8);
    assert!(
        e[0].message.contains("two ingress implementations"),
        "{}",
        e[0].message
    );
    assert!(e[0].message.contains("envoy-gateway"), "{}", e[0].message);
    // A capability on whose provider is off.
    let e = errors(&format!(
        "{MINIMAL}components:\n  loki:\n    enabled: false\n"
    ));
    assert!(
        e[0].message.contains("capabilities.logs"),
        "{}",
        e[0].message
    );
    // A component of a disabled capability.
    let e = errors(&format!(
        "{MINIMAL}capabilities:\n  traces: {{enabled: false}}\ncomponents:\n  tempo: {{enabled: true}}\n"
    ));
    assert!(e[0].message.contains("disabled"), "{}", e[0].message);
    // Unknown component, with a suggestion.
    let e = errors(&format!(
        "{MINIMAL}components:\n  lokki:\n    version: 1.0.0\n"
    ));
    assert_eq!(e[0].path, "components.lokki");
    assert_eq!(e[0].line, 7);
    assert!(
        e[0].message.contains("did you mean `loki`"),
        "{}",
        e[0].message
    );
    // A dependency switched off.
    let e = errors(&format!(
        "{MINIMAL}capabilities:\n  objectStorage: {{enabled: false}}\n"
    ));
    assert!(
        e.iter()
            .any(|e| e.message.contains("backups have nowhere to go")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|e| e.message.contains("`loki` needs `garage`")),
        "{e:?}"
    );
    // Keycloak without PostgreSQL.
    let e = errors(&format!(
        "{MINIMAL}capabilities:\n  postgresql: {{enabled: false}}\n"
    ));
    assert!(
        e.iter()
            .any(|e| e.message.contains("`keycloak` needs `cloudnative-pg`")),
        "{e:?}"
    );
    // …which is fine with Dex.
    parse(&format!(
        "{MINIMAL}capabilities:\n  postgresql: {{enabled: false}}\n  identity: {{provider: dex}}\n"
    ))
    .unwrap();
    // A domain that is not one.
    let e = errors(&MINIMAL.replace("example.nl", "Example_NL"));
    assert_eq!(e[0].path, "cluster.domain");
    assert_eq!(e[0].line, 4);
    // Duplicate tenants.
    let e = errors(&format!(
        "{MINIMAL}tenants:\n- {{name: a, group: g}}\n- {{name: a, group: h}}\n"
    ));
    assert!(e[0].message.contains("twice"), "{e:?}");
    assert_eq!(e[0].path, "tenants[1].name");
    assert_eq!(e[0].line, 8, "the second entry: {e:?}");
    // A tenant repository or platform repository Flux cannot fetch.
    let e = errors(&format!(
        "{MINIMAL}tenants:\n- name: a\n  group: g\n  repo: git.example.nl/a.git\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].path, "tenants[0].repo");
    assert_eq!(e[0].line, 9);
    assert!(e[0].message.contains("not a Git URL"), "{e:?}");
    let e = errors(&format!(
        "{MINIMAL}  git:\n    url: git@github.com:org/platform.git\n"
    ));
    assert_eq!(e[0].path, "cluster.git.url");
    assert_eq!(e[0].line, 7);
    for ok in [
        "https://git.example.nl/a.git",
        "ssh://git@git.example.nl/a.git",
    ] {
        parse(&format!(
            "{MINIMAL}tenants:\n- {{name: a, group: g, repo: '{ok}'}}\n"
        ))
        .unwrap();
    }
}

#[test]
fn overrides_reach_the_release() {
    let c = parse(&format!(
        "{MINIMAL}components:\n  loki:\n    version: 18.12.0\n    values:\n      singleBinary:\n        replicas: 3\n"
    ))
    .unwrap();
    let files = haven_platform::render(&c, &Catalogue::builtin().unwrap()).files;
    let repo = &files[&PathBuf::from("infrastructure/loki/repository.yaml")];
    assert!(repo.contains("tag: 18.12.0"), "{repo}");
    let release = &files[&PathBuf::from("infrastructure/loki/release.yaml")];
    assert!(release.contains("replicas: 3"), "{release}");
    // Merged, not replaced: the catalogue's persistence default is still there.
    assert!(release.contains("storageClass: cinder-csi"), "{release}");
}

#[test]
fn version_0_is_migrated() {
    let (c, notes) = config::parse(
        "old.yaml",
        "name: utrecht\ndomain: example.nl\nprovider: azure\ningress: istio\ndisable: [falco]\n",
        &Catalogue::builtin().unwrap(),
    )
    .unwrap();
    assert_eq!(c.version, 1);
    assert_eq!(c.cluster.name, "utrecht");
    assert_eq!(c.cluster.provider, Provider::Azure);
    assert!(!c.capabilities.intrusion_detection.enabled);
    assert_eq!(
        c.capabilities.ingress.implementation,
        config::IngressImplementation::Istio
    );
    assert!(notes[0].contains("migrated"), "{notes:?}");
}

fn schema_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/config-schema/haven-plus-v1.json"
    ))
}

#[test]
fn json_schema_is_committed() {
    let generated = config::json_schema();
    let path = schema_path();
    if std::env::var_os("HAVEN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the schema generated from the Rust types; regenerate it with:\n    \
         HAVEN_BLESS=1 cargo test -p haven-platform --test config json_schema_is_committed",
        path.display()
    );
}

#[test]
fn json_schema_is_strict_and_accepts_what_init_writes() {
    let schema: Value = serde_json::from_str(&config::json_schema()).unwrap();
    jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("not a valid schema: {e}"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let to_json = |text: &str| -> Value {
        haven_model::parse_stream("x", text)
            .remove(0)
            .unwrap()
            .value
    };
    let init = config::init_yaml(&PlatformConfig::new("haven", "example.nl", Provider::Ovh));
    let ok = to_json(&init);
    assert!(
        validator.is_valid(&ok),
        "{:?}",
        validator
            .iter_errors(&ok)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    for bad in [
        format!("{MINIMAL}colour: red\n"),
        format!("{MINIMAL}capabilities:\n  logs: {{enabled: true, level: 3}}\n"),
        format!("{MINIMAL}tenants:\n- {{name: a, group: g, owner: b}}\n"),
        format!("{MINIMAL}components:\n  loki: {{versoin: 1}}\n"),
        "version: 1\ncluster:\n  name: a\n  domain: b\n  provider: aws\n".to_owned(),
    ] {
        assert!(
            !validator.is_valid(&to_json(&bad)),
            "schema accepted:\n{bad}"
        );
    }
}

#[test]
fn explain_documents_keys_with_defaults() {
    let t = config::explain("capabilities.backups.ttl").unwrap();
    assert!(t.contains("How long a backup is kept"), "{t}");
    assert!(t.contains("168h0m0s"), "{t}");
    let t = config::explain("capabilities.ingress.implementation").unwrap();
    assert!(
        t.contains("envoy-gateway | traefik | cilium | istio"),
        "{t}"
    );
    assert!(config::explain("capabilities.nope").is_none());
    // The DNS credentials are named as the render reads them (OpenBao path `platform/dns`,
    // one property per key), not as a path of their own.
    let t = config::explain("capabilities.dns").unwrap();
    assert!(
        t.contains("`platform/dns`") && !t.contains("platform/dns/"),
        "{t}"
    );
    let t = config::explain("capabilities.dns.rfc2136").unwrap();
    assert!(
        t.contains("`platform/dns`") && t.contains("`tsig-secret`"),
        "{t}"
    );
    assert_eq!(
        config::suggest_key("capabilities.backups.tll").as_deref(),
        Some("capabilities.backups.ttl")
    );
    assert_eq!(
        config::suggest_key("capabilites.ingres.implementation").as_deref(),
        Some("capabilities.ingress.implementation")
    );
    assert_eq!(config::suggest_key("capabilities.backups.ttl"), None);
    assert_eq!(config::suggest_key("nothing.like.it"), None);
    let t = config::explain("tenants.group").unwrap();
    assert!(t.contains("OIDC group"), "{t}");
    let cat = Catalogue::builtin().unwrap();
    let t = haven_platform::catalogue::explain(&cat, Some("cert-manager")).unwrap();
    assert!(t.contains("v1.21.1"), "{t}");
}

/// Issue #21 item 8: each value is checked in its format when the config is read, with the
/// line and key, as the program that reads it would (Velero's cron parser and Go durations,
/// an ACME contact address); good values of each class read.
#[test]
fn values_are_checked_in_their_format_with_line_and_key() {
    let backups = |k: &str, v: &str| {
        format!("{MINIMAL}capabilities:\n  backups:\n    enabled: true\n    {k}: \"{v}\"\n")
    };
    for (key, good) in [
        ("schedule", "0 2 * * *"),
        ("schedule", "@every 12h"),
        ("schedule", "CRON_TZ=Europe/Amsterdam 30 1 * * mon-fri"),
        ("ttl", "720h"),
        ("ttl", "1h30m0.5s"),
    ] {
        parse(&backups(key, good)).unwrap_or_else(|e| panic!("{good}: {e:?}"));
    }
    for (key, bad, says) in [
        (
            "schedule",
            "0 2 * *",
            "not a cron schedule as Velero reads it (4 fields",
        ),
        ("schedule", "0 25 * * *", "hour: 25 is above the maximum 23"),
        ("schedule", "0 2 L * *", "day of month: `L` is not a number"),
        ("ttl", "7d", "not a Go duration (unknown unit"),
        ("ttl", "168", "a unit is missing"),
        ("ttl", "0s", "must be longer than zero"),
    ] {
        let e = errors(&backups(key, bad));
        assert_eq!(e.len(), 1, "{bad}: {e:?}");
        assert_eq!(
            (e[0].path.as_str(), e[0].line),
            (format!("capabilities.backups.{key}").as_str(), 9),
            "{bad}"
        );
        assert!(e[0].message.contains(says), "{bad}: {}", e[0].message);
        assert!(
            e[0].message.contains(&format!("`{bad}`")),
            "{}",
            e[0].message
        );
        assert!(
            e[0].to_string().starts_with("haven-plus.yaml:9: "),
            "{}",
            e[0]
        );
    }
    let email = |v: &str| format!("{MINIMAL}  acmeEmail: \"{v}\"\n");
    parse(&email("beheer@gemeente.example.nl")).unwrap();
    for bad in ["beheer", "beheer@localhost", "beheer@@example.nl"] {
        let e = errors(&email(bad));
        assert_eq!(
            (e[0].path.as_str(), e[0].line),
            ("cluster.acmeEmail", 6),
            "{bad}"
        );
        assert!(
            e[0].message.contains("not an e-mail address"),
            "{}",
            e[0].message
        );
    }
    // Several bad values at once, in file order.
    let text = format!(
        "{MINIMAL}  acmeEmail: nobody\ncapabilities:\n  backups:\n    schedule: \"61 * * * *\"\n    ttl: 1y\n"
    );
    let got: Vec<(String, u32)> = errors(&text)
        .into_iter()
        .map(|e| (e.path, e.line))
        .collect();
    assert_eq!(
        got,
        [
            ("cluster.acmeEmail".to_owned(), 6),
            ("capabilities.backups.schedule".to_owned(), 9),
            ("capabilities.backups.ttl".to_owned(), 10),
        ]
    );
}

/// `capabilities.dns`: host names, the zone (the domain or a parent), settings that match the
/// provider, and no second provider in `cluster.dnsProvider`; each at its line and key.
#[test]
fn dns_settings_are_checked_with_line_and_key() {
    let dns = |body: &str| format!("{MINIMAL}capabilities:\n  dns:\n{body}");
    let good = parse(&dns(
        "    zone: example.nl\n    rfc2136: {server: ns1.example.nl, tsigKeyName: haven-plus.}\n",
    ))
    .unwrap();
    assert_eq!(
        good.wired_dns_provider(),
        Some(config::DnsProvider::Rfc2136)
    );
    assert_eq!(good.dns_zone(), "example.nl");
    parse(&dns(
        "    rfc2136: {server: '2001:db8::53', tsigKeyName: k}\n",
    ))
    .unwrap();
    parse(&dns(
        "    provider: azure\n    azure: {subscriptionId: s, resourceGroup: g, tenantId: t, clientId: c}\n",
    ))
    .unwrap();
    for (body, path, line, says) in [
        (
            "    zone: Example.nl\n",
            "capabilities.dns.zone",
            8,
            "not a host name",
        ),
        (
            "    zone: other.nl\n",
            "capabilities.dns.zone",
            8,
            "is not `example.nl` or a parent of it",
        ),
        (
            "    zone: sub.example.nl\n",
            "capabilities.dns.zone",
            8,
            "or a parent of it",
        ),
        (
            "    rfc2136:\n      server: ns1_example\n      tsigKeyName: k\n",
            "capabilities.dns.rfc2136.server",
            9,
            "not a host name",
        ),
        (
            "    rfc2136:\n      server: ns1.example.nl\n      tsigKeyName: my key\n",
            "capabilities.dns.rfc2136.tsigKeyName",
            10,
            "not a host name",
        ),
        (
            "    azure: {subscriptionId: s, resourceGroup: g, tenantId: t, clientId: c}\n",
            "capabilities.dns.azure",
            8,
            "settings for azure while the DNS provider is rfc2136",
        ),
        (
            "    provider: ovh\n    ovh:\n      acmeChallenge: {zone: 'acme..nl', server: ns1.example.nl, tsigKeyName: k}\n",
            "capabilities.dns.ovh.acmeChallenge.zone",
            10,
            "not a host name",
        ),
        (
            "    provider: klingon\n",
            "capabilities.dns.provider",
            8,
            "is not one of rfc2136 | azure | ovh | inmemory",
        ),
    ] {
        let e = errors(&dns(body));
        assert_eq!(
            (e[0].path.as_str(), e[0].line),
            (path, line),
            "{body}: {e:?}"
        );
        assert!(e[0].message.contains(says), "{body}: {}", e[0].message);
    }
    let e = errors(&format!(
        "{MINIMAL}  dnsProvider: cloudflare\ncapabilities:\n  dns: {{provider: rfc2136}}\n"
    ));
    assert_eq!(
        (e[0].path.as_str(), e[0].line),
        ("cluster.dnsProvider", 6),
        "{e:?}"
    );
    // `explain` walks into the optional settings.
    let e = config::explain("capabilities.dns.ovh.acmeChallenge").unwrap();
    assert!(
        e.contains("keys:    port, server, tsigAlgorithm, tsigKeyName, zone"),
        "{e}"
    );
    assert!(config::explain("capabilities.dns.rfc2136.tsigKeyName").is_some());
    let e = config::explain("capabilities.dns.provider").unwrap();
    assert!(e.contains("one of rfc2136 | azure | ovh | inmemory"), "{e}");
    // A provider haven does not wire stays possible, by name only.
    let c = parse(&format!("{MINIMAL}  dnsProvider: cloudflare\n")).unwrap();
    assert_eq!(
        (c.dns_provider().as_str(), c.wired_dns_provider()),
        ("cloudflare", None)
    );
}

/// `capabilities.objectStorage.size`: a Kubernetes quantity of whole bytes, at least 1Mi, at
/// its line; it sizes Garage's data volume and each node's capacity in the layout.
#[test]
fn object_storage_size_is_a_quantity_and_sizes_garage() {
    let store = |v: &str| {
        format!("{MINIMAL}capabilities:\n  objectStorage:\n    enabled: true\n    size: \"{v}\"\n")
    };
    for (bad, says) in [
        ("lots", "not a Kubernetes quantity"),
        ("100m", "a whole number of bytes"),
        ("-5Gi", "at least 1Mi"),
        ("1Ki", "at least 1Mi"),
    ] {
        let e = errors(&store(bad));
        assert_eq!(e.len(), 1, "{bad}: {e:?}");
        assert_eq!(
            (e[0].path.as_str(), e[0].line),
            ("capabilities.objectStorage.size", 9),
            "{bad}"
        );
        assert!(e[0].message.contains(says), "{bad}: {}", e[0].message);
        assert!(
            e[0].to_string().starts_with("haven-plus.yaml:9: "),
            "{}",
            e[0]
        );
    }
    let config = parse(&store("250Gi")).unwrap();
    assert_eq!(
        config.capabilities.object_storage.size_bytes(),
        Some(250 << 30)
    );
    let out = haven_platform::render::render(&config, &Catalogue::builtin().unwrap());
    let text = |p: &str| out.files[std::path::Path::new(p)].clone();
    let release = text("infrastructure/garage/release.yaml");
    assert!(release.contains("size: 250Gi"), "{release}");
    let job = text("infrastructure/garage-config/bootstrap.yaml");
    assert!(
        job.contains(&format!("value: '{}'", 250u64 << 30))
            || job.contains(&format!("value: \"{}\"", 250u64 << 30)),
        "{job}"
    );
}

/// `capabilities.alerting`: the receivers' addresses and server are checked when the config is
/// read, each error with its line and key; a good set reads back; receivers without metrics
/// are refused (nothing would evaluate the alerts).
#[test]
fn alert_receivers_are_checked_with_file_and_line() {
    let good = format!(
        "{MINIMAL}capabilities:
  alerting:
    email:
      smarthost: smtp.example.nl:587
      from: alerts@example.nl
      to: [platform@example.nl, oncall@example.nl]
      username: alerts@example.nl
    webhook: {{format: slack}}
    heartbeat: true
"
    );
    let c = parse(&good).unwrap();
    let a = &c.capabilities.alerting;
    assert_eq!(a.secret_path, "platform/alerting/receivers");
    assert_eq!(
        a.secret_keys(),
        ["smtp-password", "webhook-url", "heartbeat-url"]
    );
    let bad = format!(
        "{MINIMAL}capabilities:
  alerting:
    email:
      smarthost: smtp.example.nl
      from: alerts.example.nl
      to: [platform@example.nl, oncall@localhost]
    secretPath: platform//alerting
"
    );
    let e = errors(&bad);
    let got: Vec<(&str, u32)> = e.iter().map(|e| (e.path.as_str(), e.line)).collect();
    assert_eq!(
        got,
        [
            ("capabilities.alerting.email.smarthost", 9),
            ("capabilities.alerting.email.from", 10),
            ("capabilities.alerting.email.to[1]", 11),
            ("capabilities.alerting.secretPath", 12),
        ],
        "{e:#?}"
    );
    assert!(
        e[0].message.contains("not `host:port` (no port"),
        "{}",
        e[0]
    );
    assert!(e[1].message.contains("not an e-mail address"), "{}", e[1]);
    assert!(
        e[2].message.contains("`localhost` is not a public domain"),
        "{}",
        e[2]
    );
    for (value, why) in [
        ("smtp.example.nl:0", "1 to 65535"),
        ("smtp.example.nl:smtp", "1 to 65535"),
        ("2001:db8::25:25", "in brackets"),
        ("Smtp.Example.nl:25", "not a host name"),
    ] {
        let text = format!(
            "{MINIMAL}capabilities:\n  alerting:\n    email: {{smarthost: \"{value}\", from: a@example.nl, to: [b@example.nl]}}\n"
        );
        let e = errors(&text);
        assert_eq!(
            e[0].path, "capabilities.alerting.email.smarthost",
            "{value}"
        );
        assert!(e[0].message.contains(why), "{value}: {}", e[0]);
    }
    for ok in ["[2001:db8::25]:25", "192.0.2.25:465"] {
        let text = format!(
            "{MINIMAL}capabilities:\n  alerting:\n    email: {{smarthost: \"{ok}\", from: a@example.nl, to: [b@example.nl]}}\n"
        );
        parse(&text).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
    }
    let e = errors(&format!(
        "{MINIMAL}capabilities:\n  metrics: {{enabled: false}}\n  alerting:\n    webhook: {{}}\n"
    ));
    assert_eq!(
        (e[0].path.as_str(), e[0].line),
        ("capabilities.alerting", 8)
    );
}

/// A host name has one owner: two tenants whose names overlap (given, or the default
/// `<tenant>.<domain>`/`*.<tenant>.<domain>`) could each route, certify or publish the other's.
#[test]
fn tenants_whose_host_names_overlap_are_refused_with_line_and_key() {
    let text = format!(
        "{MINIMAL}tenants:
  - name: zaken
    group: g
    policy:
      hostnames: [zaken.example.nl, \"*.zaken.example.nl\"]
  - name: burgerzaken
    group: g
  - name: app
    group: g
  - name: zaken2
    group: g
    policy:
      hostnames: [own.zaken2.nl, app.example.nl, www.zaken.example.nl]
  - name: other
    group: g
    policy:
      hostnames: [\"*.example.nl\"]
  - name: late
    group: g
    policy:
      hostnames:
        - late.example.nl
        - \"*.burgerzaken.example.nl\"
"
    );
    let e = errors(&text);
    let at: Vec<(&str, u32)> = e.iter().map(|e| (e.path.as_str(), e.line)).collect();
    assert_eq!(
        at,
        [
            ("tenants[3].policy.hostnames[1]", 18),
            ("tenants[3].policy.hostnames[2]", 18),
            ("tenants[4].policy.hostnames[0]", 22),
            ("tenants[5].policy.hostnames[1]", 28),
        ],
        "{e:#?}"
    );
    let msg = |p: &str| &e.iter().find(|e| e.path == p).unwrap().message;
    assert!(
        msg("tenants[3].policy.hostnames[1]").contains(
            "`app.example.nl` overlaps `app.example.nl`, a host name of tenant `app` (its default)"
        ),
        "{e:#?}"
    );
    assert!(
        msg("tenants[3].policy.hostnames[2]")
            .contains("overlaps `*.zaken.example.nl`, a host name of tenant `zaken`:"),
        "{e:#?}"
    );
    // `*.example.nl` covers the platform's names too: that is said first.
    assert!(
        msg("tenants[4].policy.hostnames[0]").contains("a host name of the platform's own"),
        "{e:#?}"
    );
    let d = e[3].describe();
    assert!(
        d.starts_with("haven-plus.yaml:28: `*.burgerzaken.example.nl` overlaps")
            && d.ends_with("(key `tenants[5].policy.hostnames[1]`)"),
        "{d}"
    );

    // A tenant's own names may overlap each other; names beside another tenant's do not clash.
    parse(&format!(
        "{MINIMAL}tenants:
  - name: zaken
    group: g
    policy:
      hostnames: [zaken.example.nl, \"*.zaken.example.nl\", www.zaken.example.nl]
  - name: app
    group: g
  - name: app2
    group: g
    policy:
      hostnames: [app2.gemeente.nl, \"*.app.gemeente.nl\"]
"
    ))
    .unwrap();
}

#[test]
fn tenant_policy_values_are_checked_with_line_and_key() {
    let text = format!(
        "{MINIMAL}capabilities:
  admission:
    allowedRegistries: [ghcr.io/gemeente-x, nginx]
    imageVerification:
      images: [\"ghcr.io/gemeente-x/*\"]
      publicKeys: [not a key]
tenants:
  - name: zaken
    group: zaken-devs
    policy:
      allowedRegistries: [\"ghcr.io/x:1.0\"]
      loadBalancer: true
      hostnames: [zaken.gemeente.nl, \"*.example.nl\", keycloak.example.nl, Bad_Host, app.example.nl]
"
    );
    let e = errors(&text);
    let at: Vec<(&str, u32)> = e.iter().map(|e| (e.path.as_str(), e.line)).collect();
    assert_eq!(
        at,
        [
            ("capabilities.admission.allowedRegistries[1]", 8),
            ("capabilities.admission.imageVerification", 9),
            ("capabilities.admission.imageVerification.publicKeys[0]", 11),
            ("tenants[0].policy.allowedRegistries[0]", 16),
            ("tenants[0].policy.hostnames[1]", 18),
            ("tenants[0].policy.hostnames[2]", 18),
            ("tenants[0].policy.hostnames[3]", 18),
        ],
        "{e:#?}"
    );
    let msg = |p: &str| &e.iter().find(|e| e.path == p).unwrap().message;
    assert!(
        msg("capabilities.admission.allowedRegistries[1]").contains("no registry host first"),
        "{e:#?}"
    );
    assert!(
        msg("capabilities.admission.imageVerification").contains("needs `engine: kyverno`"),
        "{e:#?}"
    );
    assert!(
        msg("tenants[0].policy.hostnames[1]")
            .contains("claims `grafana.example.nl`, a host name of the platform's own"),
        "{e:#?}"
    );
    assert!(
        e[0].describe().starts_with("haven-plus.yaml:8:"),
        "{}",
        e[0].describe()
    );

    // With Kyverno, a signer and good values, the same policy reads.
    let ok = format!(
        "{MINIMAL}capabilities:
  admission:
    engine: kyverno
    allowedRegistries: [ghcr.io/gemeente-x, \"registry.example.nl:5000\"]
    imageVerification:
      images: [\"ghcr.io/gemeente-x/*\"]
      keyless:
        issuer: https://token.actions.githubusercontent.com
        subjectRegexp: \"^https://github.com/gemeente-x/.+$\"
tenants:
  - name: zaken
    group: zaken-devs
    policy:
      allowedRegistries: [docker.io/library]
      loadBalancer: true
      hostnames: [zaken.gemeente.nl, \"*.zaken.gemeente.nl\"]
"
    );
    let c = parse(&ok).unwrap();
    assert_eq!(c.tenants[0].policy.hostnames.len(), 2);
    assert!(c.tenants[0].policy.load_balancer);
    // A verification without a signer says so.
    let e = errors(&ok.replace(
        "      keyless:\n        issuer: https://token.actions.githubusercontent.com\n        subjectRegexp: \"^https://github.com/gemeente-x/.+$\"\n",
        "",
    ));
    assert_eq!(e[0].path, "capabilities.admission.imageVerification");
    assert!(e[0].message.contains("no signer"), "{e:#?}");
}

/// Dex's connectors (operator review 2, finding 7) are read with the config: each needs `type`,
/// `id` and `name` (file, line and key of the one missing), ids are unique and can name a
/// secret, a secret key is not also given in clear text, and no credential is in `config`.
#[test]
fn dex_connectors_are_checked_when_read() {
    let dex = |connectors: &str| {
        format!(
            "{MINIMAL}capabilities:\n  identity:\n    provider: dex\n    dex:\n      connectors:\n{connectors}"
        )
    };
    let ok = dex(
        "        - type: oidc\n          id: entra\n          name: Entra ID\n          config: {issuer: 'https://login.example/v2.0', clientID: abc}\n          secrets: [clientSecret]\n",
    );
    let c = parse(&ok).unwrap();
    let connectors = &c.capabilities.identity.dex.connectors;
    assert_eq!(connectors[0].kind, "oidc");
    assert_eq!(
        connectors[0].secret_env("clientSecret"),
        "DEX_CONNECTOR_ENTRA_CLIENT_SECRET"
    );
    // No name: the connector's line and key.
    let e = errors(&dex("        - type: ldap\n          id: corp\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].path, "capabilities.identity.dex.connectors[0]");
    assert_eq!(e[0].line, 11);
    assert!(e[0].message.contains("name"), "{}", e[0].message);
    // A bad id, a duplicate, a secret in clear text, a secret given twice.
    let e = errors(&dex(
        "        - {type: oidc, id: Entra_ID, name: a}\n        - {type: oidc, id: b, name: b}\n        - {type: ldap, id: b, name: c, config: {bindPW: hunter2}}\n        - {type: oidc, id: d, name: d, config: {clientSecret: $X}, secrets: [clientSecret]}\n",
    ));
    let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "capabilities.identity.dex.connectors[0].id",
            "capabilities.identity.dex.connectors[2].id",
            "capabilities.identity.dex.connectors[2].config.bindPW",
            "capabilities.identity.dex.connectors[3].config.clientSecret",
        ],
        "{e:#?}"
    );
    assert!(e[2].message.contains("secrets"), "{}", e[2].message);
    // The example `haven plus init` writes reads back, uncommented, with provider dex.
    let init = config::init_yaml(&PlatformConfig::new("haven", "example.nl", Provider::Kind));
    let mut in_example = false;
    let example: String = init
        .replace("provider: keycloak", "provider: dex")
        .lines()
        .map(|l| {
            if l == "    # dex:" {
                in_example = true;
                return "    dex:\n".to_owned();
            }
            match l.strip_prefix("    #   ").filter(|_| in_example) {
                Some(rest) => format!("      {rest}\n"),
                None => {
                    in_example = false;
                    format!("{l}\n")
                }
            }
        })
        .collect();
    let c = parse(&example).unwrap_or_else(|e| panic!("{e:#?}\n{example}"));
    let connectors = &c.capabilities.identity.dex.connectors;
    assert_eq!(connectors.len(), 1, "{example}");
    assert_eq!(connectors[0].secrets, ["clientSecret"]);
    // Settings for Dex while another provider runs.
    let e = errors(&format!(
        "{MINIMAL}capabilities:\n  identity:\n    dex: {{connectors: [{{type: oidc, id: a, name: A}}]}}\n"
    ));
    assert_eq!(e[0].path, "capabilities.identity.dex");
    assert!(e[0].message.contains("provider: dex"), "{}", e[0].message);
}

/// metrics-server on AKS (operator review 2, finding 13): AKS runs its own, which owns the
/// APIService `v1beta1.metrics.k8s.io`; so it is off by default on azure (also when the file
/// does not say), `init` writes it off, and turning it on there is an error at its line.
#[test]
fn metrics_server_is_off_by_default_on_azure_only() {
    for p in Provider::ALL {
        let c = PlatformConfig::new("haven", "example.nl", p);
        assert_eq!(
            c.capabilities.metrics_server.enabled,
            p != Provider::Azure,
            "{}",
            p.name()
        );
        let init = config::init_yaml(&c);
        let without = init
            .lines()
            .filter(|l| !l.trim_start().starts_with("metricsServer:"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_ne!(without, init);
        let read = parse(&without).unwrap();
        assert_eq!(
            read.capabilities.metrics_server.enabled,
            p != Provider::Azure,
            "{}: without the key",
            p.name()
        );
    }
    let azure = "version: 1\ncluster:\n  name: haven\n  domain: example.nl\n  provider: azure\ncapabilities:\n  metricsServer: {enabled: true}\n";
    let e = errors(azure);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].path, "capabilities.metricsServer.enabled");
    assert_eq!(e[0].line, 7);
    assert!(e[0].message.contains("AKS"), "{}", e[0].message);
    assert!(parse(&azure.replace("enabled: true", "enabled: false")).is_ok());
}
