//! Telling the format from the first bytes.
//!
//! Candidates are tried in a fixed order, and each one answers from a
//! fixed byte range: yes, no, or wait until that range has arrived. The
//! first candidate still waiting stops the search, so a longer prefix can
//! never change an answer already given (the property that makes sniffing
//! independent of chunking). Magic numbers at offset 0 come first; PDF
//! (whose header may sit anywhere in the first 1024 bytes, after junk)
//! and plain text (which needs the whole sniffed prefix) come last.

use crate::sniffer::Parser;
use crate::{flac, mp3, mp4, ogg, read, text, wav, zip, Format, Limits, Rejection};

/// How many bytes decide whether a body is plain text: they must be valid
/// UTF-8 (a sequence cut at the end excepted) with no NUL. The rest of
/// the body is then checked as it streams.
pub(crate) const TEXT_SNIFF: usize = 1024;

/// Acrobat's rule: `%PDF-` must start within the first 1024 bytes.
const PDF_WITHIN: usize = 1024;

const OLE2_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// A compound file header is one 512-byte sector.
const OLE2_HEADER: u64 = 512;

pub(crate) enum Detected {
    Need(usize),
    Start(Parser),
}

enum M {
    Yes,
    No,
    Wait(usize),
}

/// Whether `sig` sits at `at`, deciding as early as a mismatch shows.
fn magic(w: &[u8], at: usize, sig: &[u8], eof: bool) -> M {
    let avail = w.get(at..).unwrap_or_default();
    let n = avail.len().min(sig.len());
    if avail.get(..n) != sig.get(..n) {
        M::No
    } else if n == sig.len() {
        M::Yes
    } else if eof {
        M::No
    } else {
        M::Wait(at.saturating_add(sig.len()))
    }
}

macro_rules! is {
    ($m:expr) => {
        match $m {
            M::Wait(n) => return Ok(Detected::Need(n)),
            M::Yes => true,
            M::No => false,
        }
    };
}

pub(crate) fn detect(w: &[u8], eof: bool, l: &Limits) -> Result<Detected, Rejection> {
    use Detected::Start;
    if w.is_empty() {
        return Ok(Detected::Need(1));
    }
    if is!(magic(w, 0, b"RIFF", eof)) || is!(magic(w, 0, b"RF64", eof)) {
        // RIFF also carries AVI and WebP: only WAVE is audio.
        return if is!(magic(w, 8, b"WAVE", eof)) {
            l.check_allowed(Format::Wav)?;
            Ok(Start(Parser::Wav(wav::Wav::new())))
        } else {
            Err(Rejection::UnsupportedType { format: None })
        };
    }
    if is!(magic(w, 0, b"fLaC", eof)) {
        l.check_allowed(Format::Flac)?;
        return Ok(Start(Parser::Flac(flac::Flac::new())));
    }
    if is!(magic(w, 0, b"ID3", eof)) {
        return Ok(Start(Parser::Mp3(mp3::Mp3::after_id3())));
    }
    if w.first() == Some(&0xFF) {
        if w.len() < 4 && !eof {
            return Ok(Detected::Need(4));
        }
        if let Ok(h) = read::arr::<4>(w, 0) {
            if mp3::FrameHeader::parse(h).is_some() {
                return Ok(Start(Parser::Mp3(mp3::Mp3::raw())));
            }
        }
    }
    if is!(magic(w, 0, b"OggS", eof)) {
        return Ok(Start(Parser::Ogg(ogg::Ogg::new())));
    }
    if is!(magic(w, 4, b"ftyp", eof)) {
        return Ok(Start(Parser::Mp4(mp4::Mp4::new())));
    }
    if is!(magic(w, 0, b"PK\x03\x04", eof)) {
        return Ok(Start(Parser::Zip(zip::Zip::new())));
    }
    if is!(magic(w, 0, OLE2_MAGIC, eof)) {
        return ole2(w, eof, l);
    }
    if is!(magic(w, 0, b"{\\rtf", eof)) {
        l.check_allowed(Format::Rtf)?;
        return Ok(Start(Parser::Done {
            format: Format::Rtf,
            min_len: 0,
        }));
    }
    if let Some(d) = pdf(w, eof, l)? {
        return Ok(d);
    }
    text_or_nothing(w, eof, l)
}

/// The compound file header: byte order mark and a sector size that
/// matches the major version.
fn ole2(w: &[u8], eof: bool, l: &Limits) -> Result<Detected, Rejection> {
    if w.len() < 32 {
        return if eof {
            Err(Rejection::malformed("file ends inside its header"))
        } else {
            Ok(Detected::Need(32))
        };
    }
    let major = read::le16(w, 0x1A)?;
    let order = read::le16(w, 0x1C)?;
    let shift = read::le16(w, 0x1E)?;
    if order != 0xFFFE || !matches!((major, shift), (3, 9) | (4, 12)) {
        return Err(Rejection::malformed("invalid OLE2 header"));
    }
    l.check_allowed(Format::Ole2)?;
    Ok(Detected::Start(Parser::Done {
        format: Format::Ole2,
        min_len: OLE2_HEADER,
    }))
}

fn pdf(w: &[u8], eof: bool, l: &Limits) -> Result<Option<Detected>, Rejection> {
    let Some(at) = w.windows(5).take(PDF_WITHIN).position(|x| x == b"%PDF-") else {
        let searched_all = w.len() >= PDF_WITHIN.saturating_add(4);
        return Ok(if searched_all || eof {
            None
        } else {
            Some(Detected::Need(w.len().saturating_add(1)))
        });
    };
    let v = at.saturating_add(5);
    match w.get(v..v.saturating_add(3)) {
        Some([b'1', b'.', b'0'..=b'7'] | [b'2', b'.', b'0']) => {
            l.check_allowed(Format::Pdf)?;
            Ok(Some(Detected::Start(Parser::Done {
                format: Format::Pdf,
                min_len: 0,
            })))
        }
        Some(_) => Err(Rejection::malformed("unknown PDF version")),
        None if eof => Err(Rejection::malformed("file ends inside its header")),
        None => Ok(Some(Detected::Need(v.saturating_add(3)))),
    }
}

fn text_or_nothing(w: &[u8], eof: bool, l: &Limits) -> Result<Detected, Rejection> {
    if w.len() < TEXT_SNIFF && !eof {
        return Ok(Detected::Need(TEXT_SNIFF));
    }
    let prefix = w.get(..TEXT_SNIFF).unwrap_or(w);
    let utf8 = match std::str::from_utf8(prefix) {
        Ok(_) => true,
        // A sequence cut by the end of the sniffed prefix, not by the end
        // of the body: the text parser checks it whole.
        Err(e) => e.error_len().is_none() && prefix.len() == TEXT_SNIFF,
    };
    if utf8 && !prefix.contains(&0) {
        l.check_allowed(Format::Text)?;
        Ok(Detected::Start(Parser::Text(text::Text::new())))
    } else {
        Err(Rejection::UnsupportedType { format: None })
    }
}

/// The body ended before anything was identified; only an empty body can
/// get here, since at the end every candidate decides.
pub(crate) fn at_end(end: &crate::sniffer::End<'_>) -> Rejection {
    if end.total == 0 {
        Rejection::malformed("empty body")
    } else {
        Rejection::UnsupportedType { format: None }
    }
}
