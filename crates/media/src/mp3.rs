//! MP3: MPEG-1, 2 or 2.5 Layer III, optionally behind ID3v2 tags.
//!
//! An ID3v2 tag is skipped by its syncsafe size without being buffered (a
//! tag with cover art is often hundreds of KiB). Then a frame header must
//! be followed, exactly one frame length later, by another compatible
//! frame header: a lone `FF Fx` pair is common in random data, two chained
//! ones are not. Without an ID3 tag the first frame must start at byte 0;
//! after a tag, up to [`SCAN_AFTER_TAG`] bytes of padding or junk are
//! tolerated, as players do.
//!
//! The duration comes from a Xing/Info or VBRI header in the first frame
//! when present (checked against the limit at once); otherwise it is
//! estimated at the end from the audio size and the first frame's bitrate.

use crate::sniffer::{End, Step, Verdict};
use crate::{read, Format, Limits, Rejection};

/// How far after an ID3 tag the first frame may start.
pub(crate) const SCAN_AFTER_TAG: usize = 4096;

/// Several ID3v2 tags in a row happen; more than this is not a real file.
const MAX_TAGS: u8 = 8;

/// The longest Layer III frame: 144 × 320 kbit/s / 32 kHz + 1 padding byte.
const MAX_FRAME: usize = 1441;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
    V25,
}

/// A parsed Layer III frame header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameHeader {
    version: Version,
    sample_rate: u32,
    /// Bits per second.
    bitrate: u32,
    channels: u16,
    len: usize,
}

impl FrameHeader {
    /// `None` unless `b` is a valid Layer III header (free-format and
    /// reserved bitrate, sample rate and emphasis values are invalid).
    pub(crate) fn parse(b: [u8; 4]) -> Option<FrameHeader> {
        const BR_V1: [u32; 15] = [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ];
        const BR_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
        let [b0, b1, b2, b3] = b;
        if b0 != 0xFF || b1 & 0xE0 != 0xE0 {
            return None;
        }
        let version = match (b1 >> 3) & 3 {
            0 => Version::V25,
            2 => Version::V2,
            3 => Version::V1,
            _ => return None,
        };
        if (b1 >> 1) & 3 != 1 {
            return None; // not Layer III
        }
        let br_index = usize::from(b2 >> 4);
        let kbps = match version {
            Version::V1 => BR_V1.get(br_index),
            _ => BR_V2.get(br_index),
        }
        .copied()
        .filter(|&k| k != 0)?;
        let rates: [u32; 3] = match version {
            Version::V1 => [44100, 48000, 32000],
            Version::V2 => [22050, 24000, 16000],
            Version::V25 => [11025, 12000, 8000],
        };
        let sample_rate = *rates.get(usize::from((b2 >> 2) & 3))?;
        if b3 & 3 == 2 {
            return None; // reserved emphasis
        }
        let padding = u32::from((b2 >> 1) & 1);
        let bitrate = kbps * 1000;
        // Bytes per frame: samples/8 × bitrate / rate (+ padding).
        let coef = if version == Version::V1 { 144 } else { 72 };
        let len = (coef * bitrate / sample_rate + padding) as usize;
        let channels = if b3 >> 6 == 3 { 1 } else { 2 };
        Some(FrameHeader {
            version,
            sample_rate,
            bitrate,
            channels,
            len,
        })
    }

    fn samples_per_frame(&self) -> u32 {
        if self.version == Version::V1 {
            1152
        } else {
            576
        }
    }

    /// Where a Xing/Info header would start: after the 4-byte header and
    /// the side information.
    fn xing_offset(&self) -> usize {
        4 + match (self.version == Version::V1, self.channels == 1) {
            (true, false) => 32,
            (true, true) | (false, false) => 17,
            (false, true) => 9,
        }
    }
}

#[derive(Debug)]
enum Phase {
    /// At a position where an ID3v2 tag may start.
    Tag,
    /// Looking for a chained frame pair; the window starts at `scan_start`
    /// and `next` is the first position not yet ruled out.
    Scan {
        next: usize,
    },
    Done,
}

#[derive(Debug)]
pub(crate) struct Mp3 {
    phase: Phase,
    tags: u8,
    /// Where the last tag ends (to tell a truncated tag at the end).
    tag_end: u64,
    scan_start: u64,
    frame: Option<FrameHeader>,
    audio_start: u64,
    duration: Option<f64>,
}

impl Mp3 {
    pub(crate) fn after_id3() -> Mp3 {
        Mp3 {
            phase: Phase::Tag,
            tags: 0,
            tag_end: 0,
            scan_start: 0,
            frame: None,
            audio_start: 0,
            duration: None,
        }
    }

    pub(crate) fn raw() -> Mp3 {
        Mp3 {
            phase: Phase::Scan { next: 0 },
            ..Mp3::after_id3()
        }
    }

    pub(crate) fn format(&self) -> Option<Format> {
        self.frame.map(|_| Format::Mp3)
    }

    pub(crate) fn step(
        &mut self,
        w: &[u8],
        off: u64,
        eof: bool,
        l: &Limits,
    ) -> Result<Step, Rejection> {
        match self.phase {
            Phase::Tag => match self.tag(w, off, eof)? {
                Some(step) => Ok(step),
                None => {
                    self.scan_start = off;
                    self.scan(w, off, 0, l)
                }
            },
            Phase::Scan { next } => self.scan(w, off, next, l),
            Phase::Done => Ok(Step::Seek(u64::MAX)),
        }
    }

    /// Skips one ID3v2 tag; `None` when no tag starts here.
    fn tag(&mut self, w: &[u8], off: u64, eof: bool) -> Result<Option<Step>, Rejection> {
        let is_tag = match w.get(..3) {
            Some(b) => b == b"ID3",
            None if eof => false,
            None => return Ok(Some(Step::Need(3))),
        };
        if !is_tag {
            return Ok(None);
        }
        if w.len() < 10 {
            return Ok(Some(Step::Need(10)));
        }
        let major = read::u8_at(w, 3)?;
        let revision = read::u8_at(w, 4)?;
        let flags = read::u8_at(w, 5)?;
        let size = read::arr::<4>(w, 6)?;
        if !(2..=4).contains(&major) || revision == 0xFF {
            return Err(Rejection::malformed("unknown ID3v2 version"));
        }
        if size.iter().any(|b| b & 0x80 != 0) {
            return Err(Rejection::malformed("ID3v2 size is not syncsafe"));
        }
        let size = size.iter().fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
        let footer = if major == 4 && flags & 0x10 != 0 {
            10
        } else {
            0
        };
        self.tags = self.tags.saturating_add(1);
        if self.tags > MAX_TAGS {
            return Err(Rejection::malformed("too many ID3v2 tags"));
        }
        self.tag_end = read::offset(off, 10 + size + footer)?;
        Ok(Some(Step::Seek(self.tag_end)))
    }

    fn scan(&mut self, w: &[u8], off: u64, mut next: usize, l: &Limits) -> Result<Step, Rejection> {
        let limit = if self.tags > 0 { SCAN_AFTER_TAG } else { 1 };
        while next < limit {
            let Some(b) = read::arr::<4>(w, next).ok() else {
                self.phase = Phase::Scan { next };
                return Ok(Step::Need(next + 4));
            };
            if let Some(h) = FrameHeader::parse(b) {
                let second = next + h.len;
                let Some(b2) = read::arr::<4>(w, second).ok() else {
                    self.phase = Phase::Scan { next };
                    return Ok(Step::Need(second + 4));
                };
                if let Some(h2) = FrameHeader::parse(b2) {
                    if h2.version == h.version && h2.sample_rate == h.sample_rate {
                        return self.found(w, off, next, h, l);
                    }
                }
            }
            next += 1;
        }
        Err(self.not_found())
    }

    fn not_found(&self) -> Rejection {
        if self.tags > 0 {
            Rejection::malformed("no MPEG audio frame after the ID3 tag")
        } else {
            Rejection::UnsupportedType { format: None }
        }
    }

    fn found(
        &mut self,
        w: &[u8],
        off: u64,
        at: usize,
        h: FrameHeader,
        l: &Limits,
    ) -> Result<Step, Rejection> {
        l.check_allowed(Format::Mp3)?;
        l.check_rate(h.sample_rate)?;
        self.frame = Some(h);
        self.audio_start = off.saturating_add(at as u64);
        let frame = read::slice(w, at, h.len.min(MAX_FRAME))?;
        let frames = xing_frames(frame, h.xing_offset()).or_else(|| vbri_frames(frame));
        if let Some(n) = frames.filter(|&n| n > 0) {
            let secs = f64::from(n) * f64::from(h.samples_per_frame()) / f64::from(h.sample_rate);
            self.duration = Some(l.check_duration(secs)?);
        }
        self.phase = Phase::Done;
        Ok(Step::Seek(u64::MAX))
    }

    pub(crate) fn finish(&mut self, end: &End<'_>, l: &Limits) -> Result<Verdict, Rejection> {
        match self.phase {
            Phase::Tag if end.cut => {
                return Err(Rejection::malformed("ID3 tag extends past end of file"))
            }
            Phase::Tag | Phase::Scan { .. } => return Err(self.not_found()),
            Phase::Done => {}
        }
        let Some(h) = self.frame else {
            return Err(self.not_found());
        };
        let secs = match self.duration {
            Some(secs) => secs,
            None => {
                let audio = end.total.saturating_sub(self.audio_start);
                l.check_duration(audio as f64 * 8.0 / f64::from(h.bitrate))?
            }
        };
        Ok(Verdict::audio(
            Format::Mp3,
            Some(h.sample_rate),
            Some(h.channels),
            Some(secs),
            end.total,
        ))
    }
}

/// The frame count of a Xing/Info header, when it has one.
fn xing_frames(frame: &[u8], at: usize) -> Option<u32> {
    let tag = read::arr::<4>(frame, at).ok()?;
    if &tag != b"Xing" && &tag != b"Info" {
        return None;
    }
    let flags = read::be32(frame, at + 4).ok()?;
    if flags & 1 == 0 {
        return None;
    }
    read::be32(frame, at + 8).ok()
}

/// The frame count of a VBRI (Fraunhofer) header, always 32 bytes after
/// the side-information-free header.
fn vbri_frames(frame: &[u8]) -> Option<u32> {
    if read::arr::<4>(frame, 36).ok()? != *b"VBRI" {
        return None;
    }
    read::be32(frame, 36 + 14).ok()
}
