//! `docs/architecture.md` traces a text, a queued text's redrive and a call record file by file. Keeps those traces true as the code
//! moves: every file a trace names exists, none is listed twice, and a path crosses at most twelve files (the
//! bound the layout is held to, so that a request's path can be followed in one sitting).

use integration_tests::{Error, repo_root};
use std::collections::BTreeSet;

/// The most files a request's path may cross.
const MOST_FILES: usize = 12;

/// The files of the table under the heading `section`: each row's second column, a path in backticks.
fn traced_files(document: &str, section: &str) -> Result<Vec<String>, Error> {
    let start = document.find(section).ok_or_else(|| format!("no section {section}"))?;
    let rest = &document[start + section.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    let files = rest[..end]
        .lines()
        .filter(|line| line.starts_with("| ") && line.chars().nth(2).is_some_and(|c| c.is_ascii_digit()))
        .filter_map(|row| row.split('|').nth(2))
        .map(|cell| cell.trim().trim_matches('`').to_owned())
        .collect();
    Ok(files)
}

fn check(section: &str) -> Result<Vec<String>, Error> {
    let document = std::fs::read_to_string(repo_root().join("docs/architecture.md"))?;
    let files = traced_files(&document, section)?;
    assert!(!files.is_empty(), "{section}: no table rows");
    for file in &files {
        assert!(repo_root().join(file).is_file(), "{section}: {file} does not exist");
    }
    let distinct: BTreeSet<&String> = files.iter().collect();
    assert_eq!(distinct.len(), files.len(), "{section}: a file is listed twice: {files:?}");
    assert!(files.len() <= MOST_FILES, "{section}: {} files, more than {MOST_FILES}: {files:?}", files.len());
    Ok(files)
}

#[test]
fn each_traced_path_crosses_at_most_twelve_existing_files_each_once_from_main_to_aws() -> Result<(), Error> {
    for (section, first, reaches) in [
        ("## A text's path, file by file", "functions/send-text/src/main.rs", "crates/texts/src/aws/sns.rs"),
        (
            "## The redrive's path for a queued text, file by file",
            "functions/redrive/src/main.rs",
            "crates/texts/src/aws/sns.rs",
        ),
        (
            "## A call record's path, file by file",
            "functions/post-call/src/main.rs",
            "crates/calls/src/aws/dynamodb.rs",
        ),
    ] {
        let files = check(section)?;
        assert_eq!(files.first().map(String::as_str), Some(first), "{section}");
        assert!(files.iter().any(|file| file == reaches), "{section}: the path reaches {reaches}");
    }
    Ok(())
}
