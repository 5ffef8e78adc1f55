//! This repository's own chart (`deploy/charts/haven-admission`), built into the binary so that
//! `validate --charts` (and `vendor`) always have the chart of the `haven-admission` component,
//! the one of this very release, without a network or a checkout.

macro_rules! chart_files {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../../../deploy/charts/haven-admission/", $file)))),*]
    };
}

/// The catalogue component the chart belongs to.
pub const HAVEN_ADMISSION: &str = "haven-admission";

/// Every file of the chart: path relative to the chart root → text. A test compares the list
/// with the directory, so a file added to the chart cannot be left out here.
pub const HAVEN_ADMISSION_CHART: &[(&str, &str)] = chart_files!(
    "Chart.yaml",
    "README.md",
    "values.yaml",
    "values.schema.json",
    "templates/NOTES.txt",
    "templates/_helpers.tpl",
    "templates/certificates.yaml",
    "templates/configmap.yaml",
    "templates/deployment.yaml",
    "templates/networkpolicy.yaml",
    "templates/pdb.yaml",
    "templates/rbac.yaml",
    "templates/service.yaml",
    "templates/serviceaccount.yaml",
    "templates/servicemonitor.yaml",
    "templates/webhook.yaml",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_chart_is_the_whole_directory() {
        let root = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/charts/haven-admission"
        ));
        let mut on_disk: Vec<String> = walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = HAVEN_ADMISSION_CHART
            .iter()
            .map(|(p, _)| (*p).to_owned())
            .collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
        let chart = super::super::chart::from_files(
            "haven-admission",
            &HAVEN_ADMISSION_CHART
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
        );
        assert_eq!(chart.name, HAVEN_ADMISSION);
        assert!(chart.schema.is_some() && chart.problems.is_empty());
    }
}
