//! The one piece of `multipart/form-data` the API reads: the first file of a form upload (a
//! MyAnimeList export sent with `curl -F file=@animelist.xml` or an HTML file input).

/// The content of the first part that carries a file name (or else the first part), from a
/// body whose content type is `content_type`.
pub fn first_file<'a>(content_type: &str, body: &'a [u8]) -> Result<&'a [u8], String> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or("the multipart content type names no boundary")?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    // Everything before the first delimiter is preamble.
    let start = find(rest, delimiter).ok_or("the multipart body has no part")?;
    rest = &rest[start + delimiter.len()..];
    while !rest.starts_with(b"--") {
        let rest_after_line = rest
            .strip_prefix(b"\r\n")
            .ok_or("a multipart delimiter is not followed by a line break")?;
        let head_end =
            find(rest_after_line, b"\r\n\r\n").ok_or("a multipart part has no end of headers")?;
        let head = String::from_utf8_lossy(&rest_after_line[..head_end]).to_ascii_lowercase();
        let content = &rest_after_line[head_end + 4..];
        let end = find(content, &[b"\r\n", delimiter].concat())
            .ok_or("a multipart part is not closed")?;
        parts.push((head.contains("filename="), &content[..end]));
        rest = &content[end + 2 + delimiter.len()..];
    }
    parts
        .iter()
        .find(|p| p.0)
        .or(parts.first())
        .map(|p| p.1)
        .ok_or_else(|| "the multipart body has no part".to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_file_part() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.xml\"\r\nContent-Type: text/xml\r\n\r\n<myanimelist>\r\n</myanimelist>\r\n--XyZ--\r\n";
        let file = first_file("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(file, b"<myanimelist>\r\n</myanimelist>");
        let only = b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n{}\r\n--b--";
        assert_eq!(
            first_file("multipart/form-data; boundary=\"b\"", only).unwrap(),
            b"{}"
        );
        for (kind, bad) in [
            ("multipart/form-data", &b"--b\r\n"[..]),
            ("multipart/form-data; boundary=b", b"no parts here"),
            (
                "multipart/form-data; boundary=b",
                b"--b\r\nContent-Disposition: x\r\n\r\nunclosed",
            ),
            ("multipart/form-data; boundary=b", b"--bjunk"),
            (
                "multipart/form-data; boundary=b",
                b"--b\r\nheaders without end",
            ),
        ] {
            assert!(first_file(kind, bad).is_err(), "{bad:?}");
        }
    }
}
