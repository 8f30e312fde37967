//! M4A/MP4 audio: ISO base media file format boxes.
//!
//! The first box must be `ftyp` with an audio-capable brand (`M4A `,
//! `M4B `, `mp41`, `mp42`, `isom`, `iso2`..`iso6`, `dash`). Then boxes are
//! walked one by one with a stack of open containers (`moov`, `trak`,
//! `mdia`, `minf`, `stbl`), reading only the small leaves that matter:
//! `mvhd` (movie duration), `mdhd` (track duration), `hdlr` (track kind)
//! and the first `stsd` sample entry of the audio track (sample rate,
//! channels). Everything else, `mdat` first of all, is skipped by its size
//! without being buffered, while the engine keeps counting bytes.
//!
//! # `moov` after `mdat`
//!
//! Encoders that do not "fast start" write `moov` after the media data.
//! The walker simply skips `mdat` and reads `moov` when it arrives, so
//! memory stays bounded; the price is that the duration, and with it
//! [`Rejection::TooLong`], is known only once the whole `mdat` has
//! streamed. Such an upload is refused at `moov`, still before the body is
//! forwarded whole. A file with `moov` first is refused at its header.
//!
//! A box whose size lies (smaller than its header, past its parent, a
//! 64-bit size that overflows, size 0 anywhere but at top level) is
//! malformed, and so is a file that ends inside a box. A track with a
//! `vide` handler is refused as unsupported: this is an audio format.
//! Fragmented files (`moof`) are accepted with the duration `mvhd` gives.

use crate::sniffer::{End, Step, Verdict};
use crate::{read, Format, Limits, Rejection};

const MAX_DEPTH: usize = 8;

/// `ftyp` lists a handful of brands; a kilobyte is generous.
const MAX_FTYP: u64 = 1024;

const AUDIO_BRANDS: [&[u8; 4]; 10] = [
    b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"dash",
];

#[derive(Debug)]
pub(crate) struct Mp4 {
    confirmed: bool,
    /// Ends of the open containers, innermost last.
    stack: [u64; MAX_DEPTH],
    depth: usize,
    moov: bool,
    /// End of the `trak` being walked, and what its boxes said so far.
    trak_end: Option<u64>,
    trak_audio: bool,
    trak_duration: Option<f64>,
    audio: bool,
    sample_rate: Option<u32>,
    channels: Option<u16>,
    movie_duration: Option<f64>,
    audio_duration: Option<f64>,
    /// A top-level box of size 0 runs to the end of the file.
    to_end: bool,
}

impl Mp4 {
    pub(crate) fn new() -> Mp4 {
        Mp4 {
            confirmed: false,
            stack: [0; MAX_DEPTH],
            depth: 0,
            moov: false,
            trak_end: None,
            trak_audio: false,
            trak_duration: None,
            audio: false,
            sample_rate: None,
            channels: None,
            movie_duration: None,
            audio_duration: None,
            to_end: false,
        }
    }

    pub(crate) fn format(&self) -> Option<Format> {
        self.confirmed.then_some(Format::M4a)
    }

    fn parent_end(&self) -> u64 {
        self.depth
            .checked_sub(1)
            .and_then(|i| self.stack.get(i))
            .copied()
            .unwrap_or(u64::MAX)
    }

    fn push(&mut self, end: u64) -> Result<(), Rejection> {
        let slot = self
            .stack
            .get_mut(self.depth)
            .ok_or(Rejection::malformed("boxes nested too deep"))?;
        *slot = end;
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn step(&mut self, w: &[u8], off: u64, l: &Limits) -> Result<Step, Rejection> {
        while self.depth > 0 && self.parent_end() <= off {
            self.depth -= 1;
        }
        if self.trak_end.is_some_and(|end| end <= off) {
            self.trak_end = None;
        }
        if w.len() < 8 {
            return Ok(Step::Need(8));
        }
        let size32 = read::be32(w, 0)?;
        let kind = read::arr::<4>(w, 4)?;
        let (size, hdr) = match size32 {
            1 => {
                if w.len() < 16 {
                    return Ok(Step::Need(16));
                }
                let large = read::be64(w, 8)?;
                if large < 16 {
                    return Err(Rejection::malformed("box size smaller than its header"));
                }
                (Some(large), 16usize)
            }
            0 => (None, 8),
            2..=7 => return Err(Rejection::malformed("box size smaller than its header")),
            s => (Some(u64::from(s)), 8),
        };
        let end = match size {
            Some(s) => read::offset(off, s)?,
            None if self.depth == 0 && self.confirmed => u64::MAX,
            None => return Err(Rejection::malformed("box size 0 inside another box")),
        };
        if end > self.parent_end() {
            return Err(Rejection::malformed("box extends past its parent"));
        }
        let size = end - off;
        let inner = off.saturating_add(hdr as u64);
        if !self.confirmed {
            if &kind != b"ftyp" || hdr != 8 || !(16..=MAX_FTYP).contains(&size) {
                return Err(Rejection::malformed("invalid ftyp box"));
            }
            if (w.len() as u64) < size {
                return Ok(Step::Need(read::need(size)));
            }
            self.ftyp(read::slice(w, hdr, read::need(size) - hdr)?, l)?;
            return Ok(Step::Seek(end));
        }
        match &kind {
            b"moov" => {
                if self.moov {
                    return Err(Rejection::malformed("more than one moov box"));
                }
                self.moov = true;
                self.push(end)?;
                Ok(Step::Seek(inner))
            }
            b"trak" => {
                self.push(end)?;
                self.trak_end = Some(end);
                self.trak_audio = false;
                self.trak_duration = None;
                Ok(Step::Seek(inner))
            }
            b"mdia" | b"minf" | b"stbl" => {
                self.push(end)?;
                Ok(Step::Seek(inner))
            }
            b"mvhd" | b"mdhd" => {
                let b = match leaf(w, size, hdr)? {
                    Ok(b) => b,
                    Err(need) => return Ok(Step::Need(need)),
                };
                let secs = header_duration(b, hdr)?;
                if let Some(secs) = secs {
                    let secs = l.check_duration(secs)?;
                    if &kind == b"mvhd" {
                        self.movie_duration = Some(secs);
                    } else if self.trak_end.is_some() {
                        self.trak_duration = Some(secs);
                    }
                }
                Ok(Step::Seek(end))
            }
            b"hdlr" if self.trak_end.is_some() => {
                if size < hdr as u64 + 12 {
                    return Err(Rejection::malformed("hdlr box too short"));
                }
                if w.len() < hdr + 12 {
                    return Ok(Step::Need(hdr + 12));
                }
                match &read::arr::<4>(w, hdr + 8)? {
                    b"soun" => {
                        self.trak_audio = true;
                        self.audio = true;
                        if self.audio_duration.is_none() {
                            self.audio_duration = self.trak_duration;
                        }
                    }
                    b"vide" => return Err(Rejection::UnsupportedType { format: None }),
                    _ => {}
                }
                Ok(Step::Seek(end))
            }
            b"stsd" if self.trak_audio && self.sample_rate.is_none() => {
                // Full box header (4) + entry count (4) + entry header (8)
                // + the audio sample entry fields up to the rate (28).
                let want = hdr + 44;
                if size < want as u64 {
                    return Err(Rejection::malformed("stsd box too short"));
                }
                if w.len() < want {
                    return Ok(Step::Need(want));
                }
                let entry = hdr + 8;
                let channels = read::be16(w, entry + 24)?;
                let rate = read::be32(w, entry + 32)? >> 16;
                if channels == 0 {
                    return Err(Rejection::malformed("audio sample entry has no channels"));
                }
                self.channels = Some(channels);
                // 0 means the rate is in a codec-specific box.
                if rate != 0 {
                    self.sample_rate = Some(l.check_rate(rate)?);
                }
                Ok(Step::Seek(end))
            }
            _ => {
                if end == u64::MAX {
                    self.to_end = true;
                }
                Ok(Step::Seek(end))
            }
        }
    }

    /// Checks the brands in the body of `ftyp`.
    fn ftyp(&mut self, body: &[u8], l: &Limits) -> Result<(), Rejection> {
        let major = read::arr::<4>(body, 0)?;
        let compatible = body.get(8..).unwrap_or_default().chunks_exact(4);
        let audio = std::iter::once(&major[..])
            .chain(compatible)
            .any(|b| AUDIO_BRANDS.iter().any(|a| &a[..] == b));
        if !audio {
            return Err(Rejection::UnsupportedType { format: None });
        }
        l.check_allowed(Format::M4a)?;
        self.confirmed = true;
        Ok(())
    }

    pub(crate) fn finish(&mut self, end: &End<'_>, l: &Limits) -> Result<Verdict, Rejection> {
        if !self.confirmed {
            return Err(Rejection::malformed("file ends inside the ftyp box"));
        }
        let open_past_end = self
            .stack
            .iter()
            .take(self.depth)
            .any(|&e| e != u64::MAX && e > end.total);
        if !(end.clean() || self.to_end) || open_past_end {
            return Err(Rejection::malformed("file ends inside a box"));
        }
        if !self.moov {
            return Err(Rejection::malformed("no moov box"));
        }
        if !self.audio {
            return Err(Rejection::UnsupportedType { format: None });
        }
        let duration = self.movie_duration.or(self.audio_duration);
        if let Some(secs) = duration {
            l.check_duration(secs)?;
        }
        Ok(Verdict::audio(
            Format::M4a,
            self.sample_rate,
            self.channels,
            duration,
            end.total,
        ))
    }
}

/// The first bytes of a `mvhd`/`mdhd` leaf once available, or
/// `Ok(Err(n))` to wait for `n` bytes; the length depends on the version.
fn leaf(w: &[u8], size: u64, hdr: usize) -> Result<Result<&[u8], usize>, Rejection> {
    if size < hdr as u64 + 20 {
        return Err(Rejection::malformed("header box too short"));
    }
    let Some(&version) = w.get(hdr) else {
        return Ok(Err(hdr + 1));
    };
    let want = hdr + if version == 1 { 32 } else { 20 };
    if size < want as u64 {
        return Err(Rejection::malformed("header box too short"));
    }
    Ok(w.get(..want).ok_or(want))
}

/// Duration in seconds from a `mvhd`/`mdhd` body; `None` when unknown
/// (all ones, as fragmented files write).
fn header_duration(b: &[u8], hdr: usize) -> Result<Option<f64>, Rejection> {
    let version = read::u8_at(b, hdr)?;
    let (timescale, duration) = if version == 1 {
        let d = read::be64(b, hdr + 24)?;
        (read::be32(b, hdr + 20)?, (d != u64::MAX).then_some(d))
    } else {
        let d = read::be32(b, hdr + 16)?;
        (
            read::be32(b, hdr + 12)?,
            (d != u32::MAX).then_some(u64::from(d)),
        )
    };
    if timescale == 0 {
        return Err(Rejection::malformed("timescale is 0"));
    }
    Ok(duration.map(|d| d as f64 / f64::from(timescale)))
}
