//! When to colour output: `--color`, whether the stream is a terminal, `NO_COLOR` and `TERM=dumb`.

use crate::cli::ColorChoice;

/// The decision, kept pure so it can be tested without a terminal.
pub fn decide(choice: ColorChoice, is_terminal: bool, no_color: bool, dumb_term: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !no_color && !dumb_term,
    }
}

/// Whether the report on stdout should be coloured.
pub fn for_stdout(choice: ColorChoice) -> bool {
    decide(
        choice,
        console::Term::stdout().is_term(),
        no_color_set(),
        dumb_term(),
    )
}

/// Whether progress and messages on stderr should be coloured.
pub fn for_stderr(choice: ColorChoice) -> bool {
    decide(
        choice,
        console::Term::stderr().is_term(),
        no_color_set(),
        dumb_term(),
    )
}

/// `NO_COLOR` counts when set to anything but the empty string (no-color.org).
fn no_color_set() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn dumb_term() -> bool {
    std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        assert!(decide(ColorChoice::Auto, true, false, false));
        assert!(!decide(ColorChoice::Auto, false, false, false));
        assert!(!decide(ColorChoice::Auto, true, true, false));
        assert!(!decide(ColorChoice::Auto, true, false, true));
    }

    #[test]
    fn explicit_choices_win() {
        assert!(decide(ColorChoice::Always, false, true, true));
        assert!(!decide(ColorChoice::Never, true, false, false));
    }
}
