//! Text from projects made safe where it goes: HTML (entities) and plain lines (controls made
//! visible). A project's output, names and error texts are hostile; nothing reaches a page
//! without passing here.

/// `text` for HTML text and attribute values: the five special characters as entities.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `text` with its control characters as `\u00XX` (newlines kept when asked): for plain text
/// and event-stream lines, where a newline would end the frame.
pub(crate) fn visible(text: &str, keep_newlines: bool) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && !(keep_newlines && c == '\n') && c != '\t' {
                format!("\\u{:04x}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible() {
        assert_eq!(visible("a\nb\u{1b}", false), "a\\u000ab\\u001b");
        assert_eq!(visible("a\nb", true), "a\nb");
    }
}
