//! Which crate may depend on which: a function crate (`functions/<name>`) on the shared crate and the domain
//! crates, never on another function (the work two functions share lives in `crates/`); the test-support crate
//! on no function at all (each port's fake is beside its port). Dev-dependencies count too.

use integration_tests::{Error, locked_metadata, repo_root};
use std::collections::BTreeMap;
use std::path::Path;

/// Each workspace crate's name, its folder relative to the repository, and the workspace crates it depends on
/// (any kind).
fn workspace_crates() -> Result<BTreeMap<String, (String, Vec<String>)>, Error> {
    let metadata = locked_metadata()?;
    let root = repo_root().canonicalize()?;
    let members = metadata["workspace_members"].as_array().ok_or("no members")?;
    let mut crates = BTreeMap::new();
    for package in metadata["packages"].as_array().ok_or("no packages")?.iter().filter(|p| members.contains(&p["id"])) {
        let manifest = Path::new(package["manifest_path"].as_str().ok_or("no manifest path")?);
        let folder = manifest.parent().ok_or("a manifest without a folder")?.strip_prefix(&root)?;
        let dependencies = package["dependencies"]
            .as_array()
            .ok_or("no dependencies")?
            .iter()
            .filter(|dependency| dependency.get("path").is_some())
            .filter_map(|dependency| dependency["name"].as_str().map(str::to_owned))
            .collect();
        let name = package["name"].as_str().ok_or("no name")?.to_owned();
        crates.insert(name, (folder.to_string_lossy().into_owned(), dependencies));
    }
    Ok(crates)
}

#[test]
fn no_function_crate_depends_on_another_and_test_support_on_none() -> Result<(), Error> {
    let crates = workspace_crates()?;
    let is_function = |name: &str| crates.get(name).is_some_and(|(folder, _)| folder.starts_with("functions/"));
    let functions: Vec<&String> = crates.keys().filter(|name| is_function(name)).collect();
    assert!(functions.len() >= 5, "the function crates were not found: {crates:?}");
    let mut wrong = Vec::new();
    for (name, (folder, dependencies)) in &crates {
        let checked = folder.starts_with("functions/") || name == "webhook-test-support";
        for dependency in dependencies.iter().filter(|dependency| *dependency != name) {
            if checked && is_function(dependency) {
                wrong.push(format!("{name} → {dependency}"));
            }
        }
    }
    assert!(wrong.is_empty(), "crates depending on a function crate: {wrong:?}");
    Ok(())
}

#[test]
fn the_domain_crates_are_what_the_functions_share() -> Result<(), Error> {
    let crates = workspace_crates()?;
    let depends = |name: &str, on: &str| crates.get(name).is_some_and(|(_, deps)| deps.iter().any(|d| d == on));
    for (function, domain) in
        [("send-text", "texts"), ("redrive", "texts"), ("post-call", "calls"), ("redrive", "calls")]
    {
        assert!(depends(function, domain), "{function} does not depend on {domain}");
    }
    Ok(())
}
