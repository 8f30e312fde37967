//! Ogg: pages (`OggS`, 27-byte header, segment table, body), the first
//! one carrying a Vorbis or Opus identification header.
//!
//! Every page header is read and checked (capture pattern, version, one
//! logical stream, consecutive sequence numbers); page bodies are skipped
//! by the size the segment table gives. The granule position of each page
//! gives the duration so far, so an over-long file is refused at the first
//! page past the limit, and the last page gives the duration at the end.
//!
//! Opus: the sample rate reported and checked is the encoder's input
//! sample rate from `OpusHead` (48000 when it says 0), because that is
//! what the audio was recorded at; Opus itself always decodes at 48 kHz,
//! and granule positions count 48 kHz samples, less the pre-skip.
//!
//! Not supported: chained or multiplexed streams (a second serial number),
//! Ogg FLAC, Speex and video codecs. Page CRCs are not verified, since
//! that would mean reading every body.

use crate::sniffer::{End, Step, Verdict};
use crate::{read, Format, Limits, Rejection};

const PAGE_HEADER: usize = 27;

/// Vorbis identification header length; `OpusHead` is 19.
const IDENT_LEN: usize = 30;

const BOS: u8 = 0x02;

#[derive(Debug, Clone, Copy)]
struct Stream {
    format: Format,
    serial: u32,
    /// Reported sample rate.
    sample_rate: u32,
    channels: u16,
    /// Granule positions count samples at this rate.
    granule_rate: u32,
    pre_skip: u64,
}

#[derive(Debug)]
pub(crate) struct Ogg {
    stream: Option<Stream>,
    next_seq: u32,
    duration: Option<f64>,
}

impl Ogg {
    pub(crate) fn new() -> Ogg {
        Ogg {
            stream: None,
            next_seq: 0,
            duration: None,
        }
    }

    pub(crate) fn format(&self) -> Option<Format> {
        self.stream.map(|s| s.format)
    }

    pub(crate) fn step(&mut self, w: &[u8], off: u64, l: &Limits) -> Result<Step, Rejection> {
        if w.len() < PAGE_HEADER {
            return Ok(Step::Need(PAGE_HEADER));
        }
        if read::arr::<4>(w, 0)? != *b"OggS" {
            return Err(Rejection::malformed("bad Ogg capture pattern"));
        }
        if read::u8_at(w, 4)? != 0 {
            return Err(Rejection::malformed("unknown Ogg version"));
        }
        let flags = read::u8_at(w, 5)?;
        let granule = read::le64(w, 6)?;
        let serial = read::le32(w, 14)?;
        let seq = read::le32(w, 18)?;
        let segments = usize::from(read::u8_at(w, 26)?);
        let header = PAGE_HEADER + segments;
        if w.len() < header {
            return Ok(Step::Need(header));
        }
        let body: u64 = read::slice(w, PAGE_HEADER, segments)?
            .iter()
            .map(|&b| u64::from(b))
            .sum();
        let stream = match self.stream {
            None => {
                if flags & BOS == 0 {
                    return Err(Rejection::malformed("first Ogg page is not a stream start"));
                }
                let want = header + IDENT_LEN.min(body as usize);
                if w.len() < want {
                    return Ok(Step::Need(want));
                }
                let ident = read::slice(w, header, IDENT_LEN.min(body as usize))?;
                let s = identify(ident, serial, l)?;
                self.stream = Some(s);
                self.next_seq = seq;
                s
            }
            Some(s) => s,
        };
        if serial != stream.serial {
            return Err(Rejection::malformed(
                "chained or multiplexed Ogg streams are not supported",
            ));
        }
        if seq != self.next_seq {
            return Err(Rejection::malformed("Ogg page out of sequence"));
        }
        self.next_seq = seq.wrapping_add(1);
        // -1: no packet ends on this page.
        if granule != u64::MAX {
            let samples = granule.saturating_sub(stream.pre_skip);
            let secs = samples as f64 / f64::from(stream.granule_rate);
            self.duration = Some(l.check_duration(secs)?);
        }
        Ok(Step::Seek(read::offset(off, header as u64 + body)?))
    }

    pub(crate) fn finish(&mut self, end: &End<'_>, _l: &Limits) -> Result<Verdict, Rejection> {
        let Some(s) = self.stream else {
            return Err(Rejection::malformed("file ends inside the first Ogg page"));
        };
        if !end.clean() {
            return Err(Rejection::malformed("file ends inside an Ogg page"));
        }
        Ok(Verdict::audio(
            s.format,
            Some(s.sample_rate),
            Some(s.channels),
            self.duration,
            end.total,
        ))
    }
}

fn identify(p: &[u8], serial: u32, l: &Limits) -> Result<Stream, Rejection> {
    if p.starts_with(b"\x01vorbis") {
        if p.len() < IDENT_LEN {
            return Err(Rejection::malformed("Vorbis header too short"));
        }
        let version = read::le32(p, 7)?;
        let channels = read::u8_at(p, 11)?;
        let rate = read::le32(p, 12)?;
        let framing = read::u8_at(p, 29)?;
        if version != 0 || channels == 0 || framing & 1 == 0 {
            return Err(Rejection::malformed("invalid Vorbis identification header"));
        }
        if rate == 0 {
            return Err(Rejection::malformed("Vorbis sample rate is 0"));
        }
        l.check_allowed(Format::OggVorbis)?;
        return Ok(Stream {
            format: Format::OggVorbis,
            serial,
            sample_rate: l.check_rate(rate)?,
            channels: u16::from(channels),
            granule_rate: rate,
            pre_skip: 0,
        });
    }
    if p.starts_with(b"OpusHead") {
        if p.len() < 19 {
            return Err(Rejection::malformed("OpusHead too short"));
        }
        let version = read::u8_at(p, 8)?;
        let channels = read::u8_at(p, 9)?;
        let pre_skip = read::le16(p, 10)?;
        let input_rate = read::le32(p, 12)?;
        // Major version 0 (values 0..=15) is the only one defined.
        if version > 15 || channels == 0 {
            return Err(Rejection::malformed("invalid OpusHead"));
        }
        l.check_allowed(Format::OggOpus)?;
        let rate = if input_rate == 0 { 48000 } else { input_rate };
        return Ok(Stream {
            format: Format::OggOpus,
            serial,
            sample_rate: l.check_rate(rate)?,
            channels: u16::from(channels),
            granule_rate: 48000,
            pre_skip: u64::from(pre_skip),
        });
    }
    Err(Rejection::UnsupportedType { format: None })
}
