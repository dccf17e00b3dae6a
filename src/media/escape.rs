//! Escaping text for ffmpeg filtergraphs — the one function every title, file
//! name or user string goes through before it enters a `-filter_complex`.
//!
//! A value inside a filtergraph is parsed twice: first the graph is split into
//! filters and options (where `\ ' [ ] , ;` are special), then each option value
//! is parsed (where `\ ' :` are special). We escape for the inner level first,
//! then the outer, as ffmpeg-filters(1) "Notes on filtergraph escaping" shows.
//! Control characters are turned into spaces: a title is one line.

/// Escapes `s` for use as a filter option value inside a filtergraph string.
pub fn filter_value(s: &str) -> String {
    let mut inner = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if matches!(c, '\\' | '\'' | ':') {
            inner.push('\\');
        }
        inner.push(c);
    }
    let mut outer = String::with_capacity(inner.len() * 2);
    for c in inner.chars() {
        if matches!(c, '\\' | '\'' | '[' | ']' | ',' | ';') {
            outer.push('\\');
        }
        outer.push(c);
    }
    outer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example() {
        // From ffmpeg-filters(1): the two-level escaping of a drawtext value.
        let s = "this is a 'string': may contain one, or more, special characters";
        assert_eq!(
            filter_value(s),
            r"this is a \\\'string\\\'\\: may contain one\, or more\, special characters"
        );
    }

    #[test]
    fn hostile_strings_have_no_unescaped_specials() {
        for s in [
            "a'b",
            "c:d",
            "back\\slash",
            "%{pts}",
            "semi;colon",
            "[label]",
            "new\nline",
            "'; rm -rf / #",
        ] {
            let e = filter_value(s);
            assert!(!e.contains('\n'));
            // every special char of the outer level is preceded by a backslash
            let b = e.as_bytes();
            for (i, ch) in b.iter().enumerate() {
                if matches!(*ch, b'\'' | b'[' | b']' | b',' | b';') {
                    assert_eq!(b[i - 1], b'\\', "{s:?} -> {e}");
                }
            }
        }
    }
}
