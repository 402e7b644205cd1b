//! systemd's quoting rules for the values that reach a unit file: a word of a command line, a
//! path of a path-valued setting. Every value a template shows goes through one of these.

/// One word of an `Exec*=` command line: specifiers (`%`) and variables (`$`) are escaped, and
/// the word is double-quoted when it contains anything but plainly safe characters.
pub(crate) fn sd_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._:=@+,-".contains(c));
    let escaped = word.replace('%', "%%").replace('$', "$$");
    if safe {
        return escaped;
    }
    let mut quoted = String::with_capacity(escaped.len() + 2);
    quoted.push('"');
    for c in escaped.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A path for a path-valued setting: specifiers escaped, quoted when it contains whitespace or
/// quotes (settings that take lists, such as ReadWritePaths=, split on whitespace).
pub(crate) fn sd_path(path: &str) -> String {
    let escaped = path.replace('%', "%%");
    if escaped
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\'' || c == '\\')
    {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

/// One `NAME=value` assignment of `Environment=`: quoted, with specifiers (`%`), backslashes and
/// quotes escaped, since systemd splits the setting on whitespace and unescapes C escapes.
pub(crate) fn sd_env(assignment: &str) -> String {
    let escaped = assignment
        .replace('%', "%%")
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_exec_words_by_systemd_rules() {
        assert_eq!(sd_word("/usr/bin/agent-runner"), "/usr/bin/agent-runner");
        assert_eq!(sd_word("/opt/my tools/ar"), "\"/opt/my tools/ar\"");
        assert_eq!(sd_word("100%"), "\"100%%\"");
        assert_eq!(sd_word("$HOME"), "\"$$HOME\"");
        assert_eq!(sd_word("a\"b"), "\"a\\\"b\"");
        assert_eq!(sd_word(""), "\"\"");
    }

    #[test]
    fn escapes_paths() {
        assert_eq!(sd_path("/srv/a%b"), "/srv/a%%b");
        assert_eq!(sd_path("/srv/with space"), "\"/srv/with space\"");
    }

    #[test]
    fn quotes_environment_assignments() {
        assert_eq!(sd_env("A=/home/agent/.claude"), "\"A=/home/agent/.claude\"");
        assert_eq!(sd_env("A=/x y/100%"), "\"A=/x y/100%%\"");
        assert_eq!(sd_env("A=a\"b\\c"), "\"A=a\\\"b\\\\c\"");
    }
}
