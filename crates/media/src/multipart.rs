//! Uploads sent as `multipart/form-data` (RFC 7578), as OpenAI-style
//! `/v1/audio/transcriptions` clients send them: the file part's content is
//! fed to a [`Sniffer`] while the body streams; the other parts (`model`,
//! `prompt`...) pass unread.
//!
//! The reader sees the body as if it began with CRLF, so every delimiter is
//! `CRLF "--" boundary`. Between delimiters it holds back at most the
//! delimiter's length minus one, so a delimiter cut across chunks is still
//! found, and the verdict does not depend on chunking. Part headers are
//! bounded ([`MAX_PART_HEADERS`]); the file part is the first part whose
//! `Content-Disposition` has a `filename`. A body with no file part, a
//! second file part, or one that ends inside a part is
//! [`Rejection::Malformed`].

use crate::{Limits, Progress, Rejection, Sniffer, Verdict};

/// The most bytes of one part's headers read.
pub const MAX_PART_HEADERS: usize = 8 * 1024;

/// The boundary of a `multipart/form-data` content type, if it is one
/// with a valid boundary (RFC 2046: 1 to 70 characters of a restricted
/// set, optionally quoted).
pub fn form_data_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let essence = parts.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })?;
    let ok = (1..=70).contains(&boundary.len())
        && boundary
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b))
        && !boundary.ends_with(' ');
    ok.then_some(boundary)
}

#[derive(Debug)]
enum State {
    /// Before the first delimiter: the preamble is skipped.
    Preamble,
    /// Just after a delimiter: `--` ends the body, CRLF starts a part.
    AfterDelimiter,
    /// Reading a part's headers.
    Headers,
    /// Inside a part's content; `file` says whether it is the upload.
    Body { file: bool },
    /// After the closing delimiter: the epilogue is ignored.
    Done,
}

/// A [`Sniffer`] for the file part of a `multipart/form-data` body.
#[derive(Debug)]
pub struct MultipartSniffer {
    delimiter: Vec<u8>,
    state: State,
    /// Bytes not yet judged: a possible delimiter start, or headers.
    pending: Vec<u8>,
    sniffer: Sniffer,
    file_seen: bool,
    progress: Progress,
    failed: Option<Rejection>,
}

fn malformed(reason: &'static str) -> Rejection {
    Rejection::Malformed { reason }
}

impl MultipartSniffer {
    /// `boundary` as [`form_data_boundary`] returns it.
    pub fn new(boundary: &str, limits: Limits) -> MultipartSniffer {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        MultipartSniffer {
            delimiter,
            state: State::Preamble,
            // The body is read as if it began with CRLF.
            pending: b"\r\n".to_vec(),
            sniffer: Sniffer::new(limits),
            file_seen: false,
            progress: Progress::Sniffing,
            failed: None,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<Progress, Rejection> {
        if let Some(r) = &self.failed {
            return Err(r.clone());
        }
        self.pending.extend_from_slice(chunk);
        match self.run() {
            Ok(()) => Ok(self.progress),
            Err(r) => {
                self.pending = Vec::new();
                self.failed = Some(r.clone());
                Err(r)
            }
        }
    }

    pub fn finish(mut self) -> Result<Verdict, Rejection> {
        if let Some(r) = self.failed.take() {
            return Err(r);
        }
        if !matches!(self.state, State::Done) {
            return Err(malformed("multipart body ends inside a part"));
        }
        if !self.file_seen {
            return Err(malformed("multipart body has no file part"));
        }
        self.sniffer.finish()
    }

    /// Consumes what `pending` allows, leaving only bytes that cannot be
    /// judged yet.
    fn run(&mut self) -> Result<(), Rejection> {
        loop {
            match self.state {
                State::Done => {
                    self.pending.clear();
                    return Ok(());
                }
                State::Preamble | State::Body { .. } => {
                    let (content_end, found) = match find(&self.pending, &self.delimiter) {
                        Some(at) => (at, true),
                        // Keep what could still begin a delimiter.
                        None => (
                            self.pending.len().saturating_sub(self.delimiter.len() - 1),
                            false,
                        ),
                    };
                    if let State::Body { file: true } = self.state {
                        if content_end > 0 {
                            self.progress = self.sniffer.push(&self.pending[..content_end])?;
                        }
                    }
                    if !found {
                        self.pending.drain(..content_end);
                        return Ok(());
                    }
                    self.pending.drain(..content_end + self.delimiter.len());
                    self.state = State::AfterDelimiter;
                }
                State::AfterDelimiter => {
                    if self.pending.len() < 2 {
                        return Ok(());
                    }
                    match &self.pending[..2] {
                        b"--" => self.state = State::Done,
                        b"\r\n" => {
                            self.pending.drain(..2);
                            self.state = State::Headers;
                        }
                        _ => return Err(malformed("multipart delimiter is not followed by CRLF")),
                    }
                }
                State::Headers => {
                    let Some(end) = find(&self.pending, b"\r\n\r\n") else {
                        if self.pending.len() > MAX_PART_HEADERS {
                            return Err(malformed("multipart part headers are too long"));
                        }
                        return Ok(());
                    };
                    if end > MAX_PART_HEADERS {
                        return Err(malformed("multipart part headers are too long"));
                    }
                    let file = is_file_part(&self.pending[..end])?;
                    if file {
                        if self.file_seen {
                            return Err(malformed("multipart body has more than one file part"));
                        }
                        self.file_seen = true;
                    }
                    // The content starts right after the blank line (an
                    // empty part is followed at once by CRLF and the
                    // delimiter, which the search then finds at 0).
                    self.pending.drain(..end + 4);
                    self.state = State::Body { file };
                }
            }
        }
    }
}

/// The sniffer an upload body needs: its file part for a
/// `multipart/form-data` body, the whole body otherwise. The declared type
/// only says how to find the file; its format is still told from content.
#[derive(Debug)]
pub enum BodySniffer {
    Raw(Sniffer),
    Form(MultipartSniffer),
}

impl BodySniffer {
    /// By the request's `Content-Type`. A `multipart/form-data` type
    /// without a usable boundary is sniffed raw (and so refused as an
    /// unknown format).
    pub fn for_content_type(content_type: Option<&str>, limits: Limits) -> BodySniffer {
        match content_type.and_then(form_data_boundary) {
            Some(boundary) => BodySniffer::Form(MultipartSniffer::new(&boundary, limits)),
            None => BodySniffer::Raw(Sniffer::new(limits)),
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<Progress, Rejection> {
        match self {
            BodySniffer::Raw(s) => s.push(chunk),
            BodySniffer::Form(m) => m.push(chunk),
        }
    }

    pub fn finish(self) -> Result<Verdict, Rejection> {
        match self {
            BodySniffer::Raw(s) => s.finish(),
            BodySniffer::Form(m) => m.finish(),
        }
    }
}

/// Whether part headers describe a file (a `filename` parameter in
/// `Content-Disposition: form-data`).
fn is_file_part(headers: &[u8]) -> Result<bool, Rejection> {
    let text = std::str::from_utf8(headers)
        .map_err(|_| malformed("multipart part headers are not UTF-8"))?;
    let mut disposition = None;
    for line in text.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or(malformed("multipart part header without a colon"))?;
        if name.trim().eq_ignore_ascii_case("content-disposition") {
            if disposition.is_some() {
                return Err(malformed(
                    "multipart part has two Content-Disposition headers",
                ));
            }
            disposition = Some(value.to_owned());
        }
    }
    let disposition = disposition.ok_or(malformed(
        "multipart part has no Content-Disposition header",
    ))?;
    let mut params = disposition.split(';');
    if !params
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("form-data"))
    {
        return Err(malformed("multipart part is not form-data"));
    }
    Ok(params.any(|p| {
        p.split_once('=')
            .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("filename"))
    }))
}

/// The first position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, FormatSet};

    fn wav(rate: u32, secs: u32) -> Vec<u8> {
        let data = rate * 2 * secs;
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(36 + data).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&rate.to_le_bytes());
        h.extend_from_slice(&(rate * 2).to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data.to_le_bytes());
        h.resize(h.len() + data as usize, 0);
        h
    }

    fn form(boundary: &str, file: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n").as_bytes());
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n").as_bytes());
        b.extend_from_slice(file);
        b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        b
    }

    fn run(
        boundary: &str,
        body: &[u8],
        chunk: usize,
        limits: Limits,
    ) -> Result<Verdict, Rejection> {
        let mut m = MultipartSniffer::new(boundary, limits);
        for c in body.chunks(chunk.max(1)) {
            m.push(c)?;
        }
        m.finish()
    }

    #[test]
    fn the_file_part_is_sniffed_in_any_chunking() {
        let body = form("XyZ-123", &wav(16_000, 1));
        for chunk in [1, 2, 3, 7, 64, 1000, body.len()] {
            let v = run("XyZ-123", &body, chunk, Limits::audio()).unwrap();
            assert_eq!(
                (v.format, v.sample_rate),
                (Format::Wav, Some(16_000)),
                "{chunk}"
            );
        }
        // The file's own bytes are audio: a PNG in the part is refused.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.resize(300, 1);
        let err = run("b", &form("b", &png), 5, Limits::audio()).unwrap_err();
        assert!(matches!(err, Rejection::UnsupportedType { .. }), "{err}");
        let err = run("b", &form("b", &wav(96_000, 1)), 9, Limits::audio()).unwrap_err();
        assert!(matches!(err, Rejection::SampleRate { hz: 96_000 }), "{err}");
    }

    #[test]
    fn a_delimiter_inside_the_file_needs_its_crlf() {
        // "--b" inside the content without CRLF before it is content.
        let mut text = b"see --b in the text".to_vec();
        text.extend_from_slice(&[b'x'; 10]);
        let limits = Limits {
            allowed: FormatSet::TEXT,
            ..Limits::default()
        };
        let v = run("b", &form("b", &text), 3, limits).unwrap();
        assert_eq!(v.format, Format::Text);
    }

    #[test]
    fn broken_forms_are_refused() {
        let no_file =
            b"--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nx\r\n--b--\r\n";
        let unterminated =
            b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nRIFF";
        let mut two = form("b", &wav(8_000, 1));
        two.truncate(two.len() - 6);
        two.extend_from_slice(b"\r\n--b\r\nContent-Disposition: form-data; name=\"g\"; filename=\"b\"\r\n\r\nx\r\n--b--");
        let bad_after = b"--bXX";
        let long_headers = [b"--b\r\nX: ".as_slice(), &[b'a'; 9000]].concat();
        for body in [&no_file[..], unterminated, &two, bad_after, &long_headers] {
            let err = run("b", body, 4, Limits::audio()).unwrap_err();
            assert!(matches!(err, Rejection::Malformed { .. }), "{err}");
        }
    }

    #[test]
    fn boundaries_come_from_the_content_type() {
        assert_eq!(
            form_data_boundary("multipart/form-data; boundary=----abc123").as_deref(),
            Some("----abc123")
        );
        assert_eq!(
            form_data_boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        for bad in [
            "audio/wav",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/mixed; boundary=abc",
            "multipart/form-data; boundary=a\u{7f}b",
        ] {
            assert_eq!(form_data_boundary(bad), None, "{bad}");
        }
        let long = format!("multipart/form-data; boundary={}", "a".repeat(71));
        assert_eq!(form_data_boundary(&long), None);
    }
}
