//! Detects a subtitle file's text encoding and decodes it: byte-order marks
//! first (UTF-8/16/32, both byte orders), then strict UTF-8, then a statistical
//! guess (chardetng) for legacy code pages such as CP1252 or GBK. Line endings are normalised to `\n` here so that no parser
//! has to care about CRLF or lone CR.

/// Text decoded from a subtitle file and the name of the encoding that was used.
pub(crate) struct Decoded {
    pub text: String,
    pub encoding: String,
}

pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    let (text, encoding) = decode_raw(bytes);
    Decoded {
        text: normalise_newlines(&text),
        encoding,
    }
}

fn decode_raw(bytes: &[u8]) -> (String, String) {
    // UTF-32 LE must be tested before UTF-16 LE: its BOM starts with FF FE too.
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE, 0x00, 0x00]) {
        return (decode_utf32(rest, false), "UTF-32LE (BOM)".into());
    }
    if let Some(rest) = bytes.strip_prefix(&[0x00, 0x00, 0xFE, 0xFF]) {
        return (decode_utf32(rest, true), "UTF-32BE (BOM)".into());
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        let (text, _) = encoding_rs::UTF_8.decode_without_bom_handling(rest);
        return (text.into_owned(), "UTF-8 (BOM)".into());
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let (text, _) = encoding_rs::UTF_16LE.decode_without_bom_handling(rest);
        return (text.into_owned(), "UTF-16LE (BOM)".into());
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let (text, _) = encoding_rs::UTF_16BE.decode_without_bom_handling(rest);
        return (text.into_owned(), "UTF-16BE (BOM)".into());
    }
    if let Some(big_endian) = bomless_utf16(bytes) {
        let enc = if big_endian {
            encoding_rs::UTF_16BE
        } else {
            encoding_rs::UTF_16LE
        };
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return (text.into_owned(), format!("{} (no BOM)", enc.name()));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), "UTF-8".into());
    }
    if let Some(bad) = nearly_utf8(bytes) {
        // A few stray bytes (a file pasted together from two sources) must not
        // turn every accented letter of a UTF-8 file into CP1252 mojibake.
        let text = String::from_utf8_lossy(bytes).into_owned();
        return (text, format!("UTF-8 ({bad} invalid sequence(s) replaced)"));
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let enc = detector.guess(None, true);
    let (text, _) = enc.decode_without_bom_handling(bytes);
    (text.into_owned(), enc.name().to_owned())
}

/// UTF-16 written without a BOM still shows itself: for Latin text every other
/// byte is zero. Returns the byte order when at least 40% of the byte pairs look
/// like that and none of the bytes in the other position are.
fn bomless_utf16(bytes: &[u8]) -> Option<bool> {
    if bytes.len() < 8 {
        return None;
    }
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    let even_zero = sample.chunks_exact(2).filter(|p| p[0] == 0).count();
    let odd_zero = sample.chunks_exact(2).filter(|p| p[1] == 0).count();
    let enough = pairs * 2 / 5;
    if even_zero >= enough && odd_zero == 0 {
        Some(true)
    } else if odd_zero >= enough && even_zero == 0 {
        Some(false)
    } else {
        None
    }
}

/// Some(number of invalid sequences) when the bytes are UTF-8 but for a few
/// errors: at least as many valid multi-byte characters as errors, and errors in
/// no more than about one line in a hundred.
fn nearly_utf8(bytes: &[u8]) -> Option<usize> {
    let mut rest = bytes;
    let mut bad = 0usize;
    let mut multibyte = 0usize;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                multibyte += s.chars().filter(|c| !c.is_ascii()).count();
                break;
            }
            Err(e) => {
                let (good, after) = rest.split_at(e.valid_up_to());
                multibyte += std::str::from_utf8(good)
                    .map(|s| s.chars().filter(|c| !c.is_ascii()).count())
                    .unwrap_or(0);
                bad += 1;
                let skip = e.error_len().unwrap_or(after.len());
                rest = &after[skip..];
            }
        }
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    (multibyte >= bad.max(1) * 2 && bad <= 1 + lines / 100).then_some(bad)
}

/// encoding_rs has no UTF-32 (the web platform dropped it), so decode by hand;
/// invalid code points and a trailing partial unit become U+FFFD.
fn decode_utf32(bytes: &[u8], big_endian: bool) -> String {
    let mut out = String::with_capacity(bytes.len() / 4);
    let mut chunks = bytes.chunks_exact(4);
    for c in &mut chunks {
        let arr = [c[0], c[1], c[2], c[3]];
        let v = if big_endian {
            u32::from_be_bytes(arr)
        } else {
            u32::from_le_bytes(arr)
        };
        out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
    }
    if !chunks.remainder().is_empty() {
        out.push('\u{FFFD}');
    }
    out
}

fn normalise_newlines(text: &str) -> String {
    // A stray BOM can survive inside the text (files concatenated by tools).
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\u{FEFF}', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str, be: bool, bom: bool) -> Vec<u8> {
        let mut v = Vec::new();
        if bom {
            v.extend_from_slice(if be { &[0xFE, 0xFF] } else { &[0xFF, 0xFE] });
        }
        for u in s.encode_utf16() {
            v.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        v
    }

    #[test]
    fn boms_of_every_kind() {
        let s = "1\r\n00:00:01,000 --> 00:00:02,000\r\nÉté à Noël\r\n";
        let want = "1\n00:00:01,000 --> 00:00:02,000\nÉté à Noël\n";
        let mut u8bom = vec![0xEF, 0xBB, 0xBF];
        u8bom.extend_from_slice(s.as_bytes());
        assert_eq!(decode(&u8bom).text, want);
        assert_eq!(decode(&utf16(s, false, true)).text, want);
        assert_eq!(decode(&utf16(s, true, true)).text, want);
        assert_eq!(decode(&utf16(s, false, false)).text, want);
        assert_eq!(decode(&utf16(s, true, false)).encoding, "UTF-16BE (no BOM)");
        let mut u32le = vec![0xFF, 0xFE, 0, 0];
        let mut u32be = vec![0, 0, 0xFE, 0xFF];
        for c in s.chars() {
            u32le.extend_from_slice(&(c as u32).to_le_bytes());
            u32be.extend_from_slice(&(c as u32).to_be_bytes());
        }
        assert_eq!(decode(&u32le).text, want);
        assert_eq!(decode(&u32be).text, want);
        assert_eq!(decode(&u32be).encoding, "UTF-32BE (BOM)");
    }

    #[test]
    fn legacy_code_pages() {
        let (cp1252, _, _) =
            encoding_rs::WINDOWS_1252.encode("Il était une fois, à l'été, un garçon très ému.");
        let d = decode(&cp1252);
        assert_eq!(d.text, "Il était une fois, à l'été, un garçon très ému.");
        assert_eq!(d.encoding, "windows-1252");
        let (gbk, _, _) = encoding_rs::GBK.encode("我们今天去北京。你好吗？我很好，谢谢你的帮助。");
        let d = decode(&gbk);
        assert_eq!(d.text, "我们今天去北京。你好吗？我很好，谢谢你的帮助。");
        assert_eq!(d.encoding, "GBK");
    }

    #[test]
    fn utf8_with_a_stray_byte_stays_utf8() {
        let mut b = "1\nÉté à Noël, où ça?\n".repeat(20).into_bytes();
        b.insert(5, 0xE9); // a lone CP1252 "é" pasted in
        let d = decode(&b);
        assert!(d.text.contains("Été à Noël"), "{}", &d.text[..40]);
        assert_eq!(d.encoding, "UTF-8 (1 invalid sequence(s) replaced)");
        // A real CP1252 file is not mistaken for broken UTF-8.
        let src = "Été à Noël\n".repeat(20);
        let (cp, _, _) = encoding_rs::WINDOWS_1252.encode(&src);
        assert_eq!(decode(&cp).encoding, "windows-1252");
    }

    #[test]
    fn lone_cr_and_truncated_utf32() {
        assert_eq!(decode(b"a\rb\r\nc").text, "a\nb\nc");
        let d = decode(&[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0, b'b']);
        assert_eq!(d.text, "a\u{FFFD}");
    }
}
