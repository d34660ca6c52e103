//! Word wrapping for text shown on a terminal (textwrap does the wrapping), keeping list items
//! readable: the report, the plan and the wizard all wrap through here.
//!
//! The terminal would wrap long lines by itself, but mid-word and back at column 0, which breaks
//! numbered instructions apart. Here continuation lines hang under the item's text, and a word
//! longer than the width (a link) is never split, so it stays clickable.

use console::measure_text_width;

/// Wraps every line of `text` to `width` columns.
pub fn wrap(text: &str, width: usize) -> String {
    let width = width.max(20);
    text.split('\n')
        .map(|line| wrap_line(line, width))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The columns a continuation line is indented by: the line's own indent, plus a list marker
/// (`1.`, `✓`, `·`, `-`, `!`, `✗`, `fix:`, `link:`) and the space after it.
fn hanging_indent(line: &str) -> usize {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let Some(first) = rest.split(' ').next() else {
        return indent;
    };
    let is_marker = (first.len() > 1
        && first.ends_with('.')
        && first[..first.len() - 1].chars().all(|c| c.is_ascii_digit()))
        || (first.chars().count() == 1 && !first.chars().all(char::is_alphanumeric))
        || first == "fix:"
        || first == "link:";
    if is_marker && rest.len() > first.len() {
        let spaces = rest[first.len()..].len() - rest[first.len()..].trim_start_matches(' ').len();
        indent + measure_text_width(first) + spaces
    } else {
        indent
    }
}

fn wrap_line(line: &str, width: usize) -> String {
    if measure_text_width(line) <= width {
        return line.to_string();
    }
    // Markers may be coloured: find them in the text as it shows.
    let hang = hanging_indent(&console::strip_ansi_codes(line)).min(width / 2);
    let indent = line.len() - line.trim_start_matches(' ').len();
    // A last word too long for any line (a link) stays where it is, beside its label: moving it
    // down would only part it from "link:" and still overflow.
    if let Some((label, word)) = line.rsplit_once(' ') {
        if hang + measure_text_width(word) > width && measure_text_width(label) <= width {
            let wrapped = wrap_line(label, width);
            return format!("{wrapped} {word}");
        }
    }
    let first = " ".repeat(indent);
    let rest = " ".repeat(hang);
    let options = textwrap::Options::new(width)
        .initial_indent(&first)
        .subsequent_indent(&rest)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    textwrap::wrap(&line[indent..], options).join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_too_long_for_any_line_stays_beside_its_label() {
        let url = format!("https://acme.service-now.com/{}", "x".repeat(80));
        let text = wrap(&format!("      link: {url}"), 60);
        assert_eq!(text, format!("      link: {url}"));
    }

    #[test]
    fn short_lines_are_left_alone() {
        assert_eq!(wrap("  1. short\n\nnext", 40), "  1. short\n\nnext");
    }

    #[test]
    fn list_items_hang_under_their_text() {
        let text = "  1. Open the registry and click New, then pick the inbound experience";
        let got = wrap(text, 30);
        for line in got.lines().skip(1) {
            assert!(
                line.starts_with("     ") && !line.starts_with("      "),
                "{got}"
            );
        }
        assert!(got.lines().all(|l| l.chars().count() <= 30), "{got}");
    }

    #[test]
    fn long_words_such_as_links_are_not_split() {
        let link = "https://acme.service-now.com/sys_user_list.do?sysparm_query=user_name%3Dx";
        let got = wrap(&format!("     {link} after"), 40);
        assert!(got.contains(link), "{got}");
    }

    #[test]
    fn plain_paragraphs_wrap_at_column_zero() {
        let got = wrap("one two three four five six seven", 20);
        assert_eq!(got, "one two three four\nfive six seven");
    }
}
