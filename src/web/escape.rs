//! Text from projects made safe for HTML. A project's output, names and error texts are hostile;
//! nothing reaches a page without passing here (plain lines pass [`crate::output::visible`]).

/// `text` for HTML text and attribute values: the five special characters as entities, after
/// [`crate::output::visible`] has spelt control characters but newline and tab `\u00XX`: a browser shows no escape sequence, but the round log, the narrative and the events
/// reach the page as the agent wrote them, and a copy pasted from it into a terminal would carry
/// an ESC or a CSI along.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in crate::output::visible(text, true).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_in_html_as_in_plain_lines() {
        let hostile = "<b>\"a\" & 'b'</b>\n\tc\0d\u{1b}]0;x\u{7}e\r\u{7f}\u{9b}31m\u{85}é";
        assert_eq!(
            esc(hostile),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;\n\tc\\u0000d\\u001b]0;x\\u0007e\
             \\u000d\\u007f\\u009b31m\\u0085é"
        );
        let controls = "\0\u{1b}\u{7}\r\u{7f}\u{9b}\u{85}\n\t";
        assert_eq!(esc(controls), crate::output::visible(controls, true));
        assert!(
            !esc(hostile)
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
        );
    }
}
