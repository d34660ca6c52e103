//! Terminal interaction: prompts behind a trait, progress, colour, and Ctrl-C.

pub mod colour;
pub mod interrupt;
pub mod progress;
pub mod prompt;
pub mod wrap;

/// `1 write`, `3 writes`: a count with its noun, for messages that would otherwise say "write(s)".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn count_agrees_with_its_number() {
        assert_eq!(super::count(1, "write", "writes"), "1 write");
        assert_eq!(super::count(0, "write", "writes"), "0 writes");
        assert_eq!(super::count(3, "change", "changes"), "3 changes");
    }
}
