//! In every crate of the workspace, the top-level modules depend on each other without a cycle, so any one of
//! them can be read, tested and changed knowing only those below it.

// Tests: a step that fails should stop the test at once (helpers are outside `#[test]` functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use integration_tests::repo_root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The `src/` directory of every crate of the workspace.
fn crate_sources() -> Vec<PathBuf> {
    let root = repo_root();
    let mut sources: Vec<PathBuf> = ["crates", "functions"]
        .iter()
        .flat_map(|group| std::fs::read_dir(root.join(group)).unwrap().flatten().map(|entry| entry.path().join("src")))
        .chain([root.join("tests/src"), root.join("bench/src")])
        .filter(|source| source.is_dir())
        .collect();
    sources.sort();
    sources
}

/// Each top-level module of `source` and the top-level modules its files name as `crate::<module>`.
fn module_graph(source: &Path) -> BTreeMap<String, BTreeSet<String>> {
    fn files(directory: &Path, into: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(directory).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, into)
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                into.push(path)
            }
        }
    }
    let mut paths = Vec::new();
    files(source, &mut paths);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in paths {
        let relative = path.strip_prefix(source).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_owned();
        // The crate roots and the binaries' entry points name modules; no module names them.
        if module == "lib" || module == "main" || module == "bin" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let uses = graph.entry(module.clone()).or_default();
        for (index, _) in text.match_indices("crate::") {
            let name: String =
                text[index + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && name != module {
                uses.insert(name);
            }
        }
    }
    graph
}

/// A cycle through `module`, if any (depth-first).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>, module: &str, path: &mut Vec<String>) -> Option<Vec<String>> {
    if let Some(start) = path.iter().position(|seen| seen == module) {
        return Some(path[start..].iter().cloned().chain([module.to_owned()]).collect());
    }
    path.push(module.to_owned());
    for next in graph.get(module).into_iter().flatten() {
        if let Some(found) = cycle(graph, next, path) {
            return Some(found);
        }
    }
    path.pop();
    None
}

#[test]
fn no_crate_has_a_module_cycle() {
    let sources = crate_sources();
    assert!(sources.len() >= 9, "the crates were not found: {sources:?}");
    let shared = module_graph(&repo_root().join("crates/webhook/src"));
    assert!(shared.len() >= 10, "the modules were not found: {shared:?}");
    assert!(shared["pipeline"].contains("auth"), "the references were not read: {shared:?}");
    let mut cycles = Vec::new();
    for source in sources {
        let graph = module_graph(&source);
        for module in graph.keys() {
            if let Some(found) = cycle(&graph, module, &mut Vec::new()) {
                cycles.push(format!("{}: {}", source.display(), found.join(" → ")));
                break;
            }
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn a_cycle_would_be_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("error".to_owned(), BTreeSet::from(["record".to_owned()])),
        ("record".to_owned(), BTreeSet::from(["config".to_owned()])),
        ("config".to_owned(), BTreeSet::from(["error".to_owned()])),
    ]
    .into();
    assert_eq!(cycle(&graph, "error", &mut Vec::new()).map(|found| found.len()), Some(4));
}
