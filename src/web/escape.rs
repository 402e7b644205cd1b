//! Text from projects made safe for HTML. A project's output, names and error texts are hostile;
//! nothing reaches a page without passing here (plain lines pass [`crate::output::visible`]).

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
