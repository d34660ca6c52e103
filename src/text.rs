//! Untrusted text on its way out: bounded everywhere, escaped where a terminal or XML reads it.
//!
//! Instance data (a version string, a record's name), a server's error message and input echoed
//! back are not ours: they may carry escape sequences that retitle a window or clear the screen,
//! C1 controls, bidirectional overrides that reorder what a reader sees, or megabytes of text.
//! [`bounded`] cuts any value to a size worth showing, saying how big it was; [`escaped`] shows
//! every control and formatting character as an escape (`\x1b`, `\u{202e}`), so what reaches a
//! terminal or a JUnit file is inert and valid. JSON keeps values exact (serde escapes them) but
//! bounded.

use std::borrow::Cow;

/// The most of one value a report shows (bytes); the rest is cut with its size named.
pub const MAX_VALUE: usize = 4096;

/// `value` cut to [`MAX_VALUE`] bytes at a character boundary, with "… (N bytes)" after a cut.
pub fn bounded(value: String) -> String {
    if value.len() <= MAX_VALUE {
        return value;
    }
    let mut end = MAX_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({})", &value[..end], size(value.len()))
}

fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / f64::from(1 << 10)),
        b => format!("{b} bytes"),
    }
}

/// Whether a character must not reach a terminal or an XML file as itself: C0 controls (also
/// newline and tab, since a value is shown on one line), DEL, C1 controls, and the Unicode
/// formatting characters that reorder or hide text (bidirectional embeddings, overrides and
/// isolates, zero-width joiners and marks, the byte order mark).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}')
}

/// `value` with every unsafe character shown as an escape: `\x1b` for ASCII controls and DEL,
/// `\u{202e}` for the rest. Borrowed when nothing needed escaping.
pub fn escaped(value: &str) -> Cow<'_, str> {
    if !value.chars().any(unsafe_char) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Text that came from outside, for a terminal: bounded and escaped.
pub fn for_terminal(value: &str) -> String {
    escaped(&bounded(value.to_string())).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_c1_controls_and_bidi_overrides_are_shown_not_obeyed() {
        let hostile = "1.0\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}txt.exe\u{7f}";
        let shown = escaped(hostile);
        assert_eq!(
            shown,
            "1.0\\x1b]0;pwned\\x07\\x1b[2J\\u{009b}31m\\u{202e}txt.exe\\x7f"
        );
        assert!(!shown.chars().any(unsafe_char));
        assert!(matches!(escaped("plain 1.4.0 ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_huge_value_is_cut_with_its_size() {
        let big = "é".repeat(5 << 20);
        let cut = bounded(big);
        assert!(cut.len() < MAX_VALUE + 32, "{}", cut.len());
        assert!(cut.ends_with("… (10.0 MB)"), "{}", &cut[cut.len() - 20..]);
        assert_eq!(bounded("short".into()), "short");
    }
}
