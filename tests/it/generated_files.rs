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
    let mut generated = Vec::new();
    man::render(&mut generated).unwrap();
    assert!(String::from_utf8_lossy(&generated).contains("snconnect"));
    check_or_bless(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man/snconnect.1"),
        generated,
    );
}
