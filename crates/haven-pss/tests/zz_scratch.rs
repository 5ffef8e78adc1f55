use haven_pss::*;
use k8s_openapi::api::core::v1::Pod;
#[test]
fn dump() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/pod-security");
    for (lvl, l) in [
        (Level::Baseline, "baseline"),
        (Level::Restricted, "restricted"),
    ] {
        for v in ["v1.0", "v1.24", "v1.37"] {
            let dir = root.join(l).join(v).join("fail");
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f).unwrap();
                let doc = haven_model::yaml::parse_stream("x", &text)
                    .pop()
                    .unwrap()
                    .unwrap();
                let pod: Pod = serde_json::from_value(doc.value).unwrap();
                let vs = evaluate(
                    lvl,
                    v.parse().unwrap(),
                    &pod.metadata,
                    pod.spec.as_ref().unwrap(),
                );
                for x in vs {
                    println!(
                        "{l}/{v}/{}: [{}] {} ({})",
                        f.file_name().unwrap().to_str().unwrap(),
                        x.check,
                        x.reason,
                        x.detail
                    );
                    for fl in x.fields {
                        println!("      {} {:?} {}", fl.path, fl.container, fl.message);
                    }
                }
            }
        }
    }
}
