//! ZIP-based documents: OOXML (docx, xlsx, pptx) and OpenDocument.
//!
//! Identified from the local file headers of the first entries, each
//! skipped by its compressed size without buffering its data:
//!
//! - OpenDocument: the first entry is `mimetype`, stored uncompressed,
//!   holding `application/vnd.oasis.opendocument.{text,spreadsheet,presentation}`.
//! - OOXML: a `[Content_Types].xml` entry and an entry under `word/`,
//!   `xl/` or `ppt/`, in either order, among the first [`MAX_ENTRIES`].
//!
//! An entry written with a data descriptor and no size in its local header
//! cannot be skipped by size; the walker then looks for the next local
//! header signature within [`SCAN_LIMIT`] bytes. Other ZIP files (EPUB,
//! JAR, a plain archive) are unsupported. Nothing is decompressed.

use crate::sniffer::{End, Step, Verdict};
use crate::{read, Format, Limits, Rejection};

/// Entries looked at before giving up on identifying the package.
pub(crate) const MAX_ENTRIES: u32 = 64;

/// How far to search for the next local header after an entry of unknown
/// size.
pub(crate) const SCAN_LIMIT: u64 = 1 << 20;

const LOCAL: &[u8; 4] = b"PK\x03\x04";

/// The data descriptor flag: sizes follow the data instead.
const DESCRIPTOR: u16 = 1 << 3;

#[derive(Debug)]
pub(crate) struct Zip {
    entries: u32,
    content_types: bool,
    part: Option<Format>,
    found: Option<Format>,
    /// Searching for the next local header, up to this offset.
    scan_until: Option<u64>,
}

impl Zip {
    pub(crate) fn new() -> Zip {
        Zip {
            entries: 0,
            content_types: false,
            part: None,
            found: None,
            scan_until: None,
        }
    }

    pub(crate) fn format(&self) -> Option<Format> {
        self.found
    }

    pub(crate) fn step(
        &mut self,
        w: &[u8],
        off: u64,
        _eof: bool,
        l: &Limits,
    ) -> Result<Step, Rejection> {
        if self.found.is_some() {
            return Ok(Step::Seek(u64::MAX));
        }
        if let Some(until) = self.scan_until {
            match w.windows(4).position(|x| x == LOCAL) {
                Some(i) if off.saturating_add(i as u64) < until => {
                    self.scan_until = None;
                    if i > 0 {
                        return Ok(Step::Seek(off.saturating_add(i as u64)));
                    }
                }
                Some(_) => return Err(Rejection::UnsupportedType { format: None }),
                None => {
                    let keep = w.len().saturating_sub(3);
                    if off.saturating_add(keep as u64) >= until {
                        return Err(Rejection::UnsupportedType { format: None });
                    }
                    return Ok(if keep == 0 {
                        Step::Need(4)
                    } else {
                        Step::Seek(off.saturating_add(keep as u64))
                    });
                }
            }
        }
        self.entry(w, off, l)
    }

    fn entry(&mut self, w: &[u8], off: u64, l: &Limits) -> Result<Step, Rejection> {
        if w.len() < 4 {
            return Ok(Step::Need(4));
        }
        if read::arr::<4>(w, 0)? != *LOCAL {
            // The central directory or anything else: no more entries.
            return Err(Rejection::UnsupportedType { format: None });
        }
        if w.len() < 30 {
            return Ok(Step::Need(30));
        }
        let flags = read::le16(w, 6)?;
        let method = read::le16(w, 8)?;
        let csize = read::le32(w, 18)?;
        let name_len = usize::from(read::le16(w, 26)?);
        let extra_len = usize::from(read::le16(w, 28)?);
        let data = 30 + name_len + extra_len;
        if w.len() < 30 + name_len {
            return Ok(Step::Need(30 + name_len));
        }
        let name = read::slice(w, 30, name_len)?;
        // Decide everything that may wait for bytes before changing any
        // state: this step runs again when they arrive.
        let mimetype = self.entries == 0 && name == b"mimetype";
        if mimetype {
            let odf = method == 0 && csize <= 128;
            if !odf {
                return Err(Rejection::UnsupportedType { format: None });
            }
            let want = data + csize as usize;
            if w.len() < want {
                return Ok(Step::Need(want));
            }
        }
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(Rejection::UnsupportedType { format: None });
        }
        if mimetype {
            let format = match read::slice(w, data, csize as usize)? {
                b"application/vnd.oasis.opendocument.text" => Format::Odt,
                b"application/vnd.oasis.opendocument.spreadsheet" => Format::Ods,
                b"application/vnd.oasis.opendocument.presentation" => Format::Odp,
                _ => return Err(Rejection::UnsupportedType { format: None }),
            };
            self.found = Some(l.check_allowed(format)?);
            return Ok(Step::Seek(u64::MAX));
        }
        if name == b"[Content_Types].xml" {
            self.content_types = true;
        } else if self.part.is_none() {
            self.part = if name.starts_with(b"word/") {
                Some(Format::Docx)
            } else if name.starts_with(b"xl/") {
                Some(Format::Xlsx)
            } else if name.starts_with(b"ppt/") {
                Some(Format::Pptx)
            } else {
                None
            };
        }
        if let (true, Some(part)) = (self.content_types, self.part) {
            self.found = Some(l.check_allowed(part)?);
            return Ok(Step::Seek(u64::MAX));
        }
        let data_at = read::offset(off, data as u64)?;
        if (flags & DESCRIPTOR != 0 && csize == 0) || csize == u32::MAX {
            self.scan_until = Some(data_at.saturating_add(SCAN_LIMIT));
            return Ok(Step::Seek(data_at));
        }
        Ok(Step::Seek(read::offset(data_at, u64::from(csize))?))
    }

    pub(crate) fn finish(&mut self, end: &End<'_>) -> Result<Verdict, Rejection> {
        if let Some(format) = self.found {
            return Ok(Verdict::document(format, end.total));
        }
        if self.scan_until.is_none() && !end.clean() {
            return Err(Rejection::malformed("file ends inside a ZIP entry"));
        }
        Err(Rejection::UnsupportedType { format: None })
    }
}
