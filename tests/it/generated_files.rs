//! The committed completion scripts and man page must match what the current CLI generates.
//! Run with `SNCONNECT_BLESS=1` to rewrite them after changing the CLI.

use std::path::PathBuf;

use clap_complete::Shell;
use snconnect::commands::{completions, man};

fn check_or_bless(path: PathBuf, generated: Vec<u8>) {
    if std::env::var_os("SNCONNECT_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}); run SNCONNECT_BLESS=1 cargo test",
            path.display()
        )
    });
    assert!(
        committed == generated,
        "{} is stale: regenerate with SNCONNECT_BLESS=1 cargo test --test it generated_files",
        path.display()
    );
}

#[test]
fn committed_completions_match_the_cli() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let mut generated = Vec::new();
        completions::write(shell, &mut generated);
        assert!(!generated.is_empty(), "{shell} completion is empty");
        // Issue 14: the sandbox's scenario names complete in the shells whose completion
        // scripts carry value lists (clap_complete writes none for PowerShell and Elvish).
        let text = String::from_utf8_lossy(&generated);
        if matches!(shell, Shell::Bash | Shell::Zsh | Shell::Fish) {
            assert!(
                text.contains("oauth-scope-pinned"),
                "{shell} completion lacks the scenario names"
            );
        }
        check_or_bless(dir.join(completions::file_name(shell)), generated);
    }
}

#[test]
fn committed_man_page_matches_the_cli() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = man::pages().unwrap();
    // Issue 14: the main page and one per subcommand, each with the sections clap has no field
    // for, and no reference to a page that is not there.
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "snconnect.1",
        "snconnect-verify.1",
        "snconnect-apply.1",
        "snconnect-setup.1",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    for (name, page) in &pages {
        let text = String::from_utf8_lossy(page);
        for section in [
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH \"EXIT STATUS\"",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(text.contains(section), "{name} lacks {section}");
        }
        // Every `name(1)` the page mentions, bold or not, is a page that is generated.
        let plain = text
            .replace("\\fB", " ")
            .replace("\\fR", "")
            .replace("\\-", "-");
        for word in plain.split([' ', '\n', ',']) {
            if let Some(page_name) = word.strip_suffix("(1)") {
                let file = format!("{page_name}.1");
                assert!(
                    names.contains(&file.as_str()),
                    "{name} refers to {file}, which is not generated"
                );
            }
        }
        check_or_bless(dir.join(name), page.clone());
    }
    // No stale page is left behind in man/.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            names.contains(&file.as_str()),
            "man/{file} is not generated any more"
        );
    }
}

/// Issue 18: the JSON Schemas of the report and the plan, generated from the Rust types and
/// committed under `schema/`, are current.
#[test]
fn committed_schemas_match_the_types() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema");
    for (file, generated) in [
        ("report.schema.json", snconnect::report::json::schema()),
        ("plan.schema.json", snconnect::apply::render::plan_schema()),
        ("fleet.schema.json", snconnect::commands::fleet::schema()),
    ] {
        let parsed: serde_json::Value = serde_json::from_str(&generated).unwrap();
        assert_eq!(
            parsed["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{file}"
        );
        check_or_bless(dir.join(file), generated.into_bytes());
    }
}
