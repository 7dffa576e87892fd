//! The workspace's `rust-version` is exactly what the locked dependencies need: lower, and cargo's MSRV-aware
//! resolver would pick ancient versions of any crate added later (the SDK crates need the newest Rust); higher,
//! and it would refuse toolchains that build the workspace.

use integration_tests::{Error, cargo_command};

/// `1.94.1` as comparable numbers.
fn version(text: &str) -> Vec<u64> {
    text.split('.').map(|part| part.parse().unwrap_or(0)).collect()
}

/// The target this test runs on (`rustc -vV`'s `host`).
fn host() -> Result<String, Error> {
    let output = cargo_command("rustc").arg("-vV").output()?;
    let text = String::from_utf8(output.stdout)?;
    let host = text.lines().find_map(|line| line.strip_prefix("host: ")).ok_or("rustc -vV names no host")?;
    Ok(host.to_owned())
}

/// Offline, on this host's packages only: the suite has built (so downloaded) every one of them, while a package
/// only another platform uses (Android's, Windows') is never downloaded on a fresh machine, and without
/// `--filter-platform` cargo would need it.
#[test]
fn rust_version_is_what_the_locked_dependencies_need() -> Result<(), Error> {
    let output = cargo_command("cargo")
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host()?])
        .output()?;
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
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
