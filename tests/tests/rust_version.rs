//! The workspace's `rust-version` is exactly what the locked dependencies need: lower, and cargo's MSRV-aware
//! resolver would pick ancient versions of any crate added later (the SDK crates need the newest Rust); higher,
//! and it would refuse toolchains that build the workspace.

use integration_tests::{Error, locked_metadata};

/// `1.94.1` as comparable numbers.
fn version(text: &str) -> Vec<u64> {
    text.split('.').map(|part| part.parse().unwrap_or(0)).collect()
}

#[test]
fn rust_version_is_what_the_locked_dependencies_need() -> Result<(), Error> {
    let metadata = locked_metadata()?;
    let packages = metadata["packages"].as_array().ok_or("no packages")?;
    let members = metadata["workspace_members"].as_array().ok_or("no members")?;
    let is_member = |package: &serde_json::Value| members.contains(&package["id"]);
    let ours: Vec<&str> = packages.iter().filter(|p| is_member(p)).filter_map(|p| p["rust_version"].as_str()).collect();
    let needed = packages
        .iter()
        .filter(|package| !is_member(package))
        .filter_map(|package| package["rust_version"].as_str())
        .max_by_key(|text| version(text))
        .ok_or("no dependency states a rust-version")?;
    assert!(ours.len() >= 9, "{ours:?}");
    for stated in ours {
        assert_eq!(stated, needed, "the workspace's rust-version, against what its locked dependencies need");
    }
    Ok(())
}
