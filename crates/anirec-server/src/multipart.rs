//! The one piece of `multipart/form-data` the API reads: a form with one field, `file` — a
//! MyAnimeList export sent with `curl -F file=@animelist.xml.gz` or an HTML file input.

/// The form field that carries the upload.
pub const FILE_FIELD: &str = "file";

/// The content of the `file` field of a body whose content type is `content_type`; a form
/// without it, or with other fields, is refused with a message naming them.
pub fn file_part<'a>(content_type: &str, body: &'a [u8]) -> Result<&'a [u8], String> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or("the multipart content type names no boundary")?;
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut file = None;
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
        let head = String::from_utf8_lossy(&rest_after_line[..head_end]);
        let content = &rest_after_line[head_end + 4..];
        let end = find(content, &[b"\r\n", delimiter].concat())
            .ok_or("a multipart part is not closed")?;
        match field_name(&head).as_deref() {
            Some(FILE_FIELD) if file.is_none() => file = Some(&content[..end]),
            Some(FILE_FIELD) => return Err("the form has two file fields; send one".into()),
            other => {
                return Err(format!(
                    "the form has a field {:?} besides the file; send only the file, as field \
                     {FILE_FIELD:?}",
                    other.unwrap_or("")
                ));
            }
        }
        rest = &content[end + 2 + delimiter.len()..];
    }
    file.ok_or_else(|| format!("the form has no field {FILE_FIELD:?} with the upload"))
}

/// The `name` of a part's `Content-Disposition: form-data; name="..."` header.
fn field_name(head: &str) -> Option<String> {
    let disposition = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    disposition.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        (key.trim().eq_ignore_ascii_case("name")).then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_file_field_and_only_it() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.xml\"\r\nContent-Type: text/xml\r\n\r\n<myanimelist>\r\n</myanimelist>\r\n--XyZ--\r\n";
        let file = file_part("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(file, b"<myanimelist>\r\n</myanimelist>");
        let json = b"--b\r\nContent-Disposition: form-data; name=file\r\n\r\n{}\r\n--b--";
        assert_eq!(
            file_part("multipart/form-data; boundary=\"b\"", json).unwrap(),
            b"{}"
        );
        let extra = b"--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n{}\r\n--b--";
        assert_eq!(
            file_part("multipart/form-data; boundary=b", extra).unwrap_err(),
            "the form has a field \"note\" besides the file; send only the file, as field \"file\""
        );
        let none = b"--b\r\n\r\n\r\n--b--";
        assert!(file_part("multipart/form-data; boundary=b", none).is_err());
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
            assert!(file_part(kind, bad).is_err(), "{bad:?}");
        }
    }
}
