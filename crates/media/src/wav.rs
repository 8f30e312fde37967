//! WAV: RIFF (or RF64) `WAVE`, then chunks, `fmt ` before `data`.
//!
//! Chunks before `data` (`LIST`, `fact`, `bext`, `JUNK`, …) are skipped by
//! their size without buffering. The `fmt ` chunk is read and checked
//! (channels, sample rate, block align, byte rate); at the `data` chunk
//! header the duration is known (`data size / byte rate`), so an over-long
//! file is refused before its samples arrive. Chunks after `data` are not
//! read. At the end, a `data` chunk that claims more bytes than the body
//! holds is a lying header.
//!
//! A `data` size of `0xFFFFFFFF` in a plain RIFF file is what encoders
//! writing to a pipe emit (they cannot seek back to patch it): it is read
//! as "to the end of the body", and the duration is known only then.
//! RF64 is supported: its `ds64` chunk carries the 64-bit sizes.

use crate::sniffer::{End, Step, Verdict};
use crate::{read, Format, Limits, Rejection};

/// `WAVE_FORMAT_EXTENSIBLE` is 40 bytes; anything much larger is not a
/// format description.
const MAX_FMT: u32 = 256;

const UNKNOWN_SIZE: u32 = u32::MAX;

#[derive(Debug)]
enum Phase {
    Riff,
    Chunk,
    Data,
}

#[derive(Debug, Clone, Copy)]
struct Fmt {
    channels: u16,
    sample_rate: u32,
    byte_rate: u32,
}

#[derive(Debug)]
pub(crate) struct Wav {
    phase: Phase,
    rf64: bool,
    /// End of the RIFF chunk, when its size is meaningful.
    riff_end: Option<u64>,
    /// RF64: the real `data` size from `ds64`.
    ds64_data: Option<u64>,
    fmt: Option<Fmt>,
    data_start: u64,
    /// `None`: the data runs to the end of the body.
    data_len: Option<u64>,
}

impl Wav {
    pub(crate) fn new() -> Wav {
        Wav {
            phase: Phase::Riff,
            rf64: false,
            riff_end: None,
            ds64_data: None,
            fmt: None,
            data_start: 0,
            data_len: None,
        }
    }

    pub(crate) fn step(&mut self, w: &[u8], off: u64, l: &Limits) -> Result<Step, Rejection> {
        match self.phase {
            Phase::Riff => {
                if w.len() < 12 {
                    return Ok(Step::Need(12));
                }
                self.rf64 = read::arr::<4>(w, 0)? == *b"RF64";
                let size = read::le32(w, 4)?;
                if size < 4 && !self.rf64 {
                    return Err(Rejection::malformed("RIFF size smaller than its header"));
                }
                if !self.rf64 && size != UNKNOWN_SIZE && size != 0 {
                    self.riff_end = Some(8 + u64::from(size));
                }
                self.phase = Phase::Chunk;
                Ok(Step::Seek(off + 12))
            }
            Phase::Chunk => self.chunk(w, off, l),
            Phase::Data => Ok(Step::Seek(u64::MAX)),
        }
    }

    fn chunk(&mut self, w: &[u8], off: u64, l: &Limits) -> Result<Step, Rejection> {
        if w.len() < 8 {
            return Ok(Step::Need(8));
        }
        let id = read::arr::<4>(w, 0)?;
        let size = read::le32(w, 4)?;
        // Chunks are padded to an even size.
        let next = read::offset(off, 8 + u64::from(size) + u64::from(size & 1))?;
        match &id {
            b"ds64" if self.rf64 => {
                if size < 24 {
                    return Err(Rejection::malformed("ds64 chunk too short"));
                }
                if w.len() < 8 + 24 {
                    return Ok(Step::Need(8 + 24));
                }
                self.riff_end = Some(read::offset(8, read::le64(w, 8)?)?);
                self.ds64_data = Some(read::le64(w, 16)?);
                Ok(Step::Seek(next))
            }
            b"fmt " => {
                if self.fmt.is_some() {
                    return Err(Rejection::malformed("duplicate fmt chunk"));
                }
                if size < 16 {
                    return Err(Rejection::malformed("fmt chunk too short"));
                }
                if size > MAX_FMT {
                    return Err(Rejection::malformed("fmt chunk too large"));
                }
                let len = 8 + size as usize;
                if w.len() < len {
                    return Ok(Step::Need(len));
                }
                self.fmt = Some(parse_fmt(w, l)?);
                Ok(Step::Seek(next))
            }
            b"data" => {
                let Some(fmt) = self.fmt else {
                    return Err(Rejection::malformed("data chunk before fmt chunk"));
                };
                self.data_start = off + 8;
                self.data_len = if self.rf64 && size == UNKNOWN_SIZE {
                    Some(
                        self.ds64_data
                            .ok_or(Rejection::malformed("RF64 without ds64 chunk"))?,
                    )
                } else if size == UNKNOWN_SIZE {
                    None
                } else {
                    Some(u64::from(size))
                };
                if let (Some(len), Some(riff_end)) = (self.data_len, self.riff_end) {
                    if read::offset(self.data_start, len)? > riff_end {
                        return Err(Rejection::malformed("data chunk extends past RIFF end"));
                    }
                }
                if let Some(len) = self.data_len {
                    l.check_duration(len as f64 / f64::from(fmt.byte_rate))?;
                }
                self.phase = Phase::Data;
                Ok(Step::Seek(u64::MAX))
            }
            _ => Ok(Step::Seek(next)),
        }
    }

    pub(crate) fn finish(&mut self, end: &End<'_>, l: &Limits) -> Result<Verdict, Rejection> {
        let (Phase::Data, Some(fmt)) = (&self.phase, self.fmt) else {
            return Err(Rejection::malformed(if self.fmt.is_some() {
                "no data chunk"
            } else {
                "file ends before the fmt chunk"
            }));
        };
        let avail = end.total.saturating_sub(self.data_start);
        let len = match self.data_len {
            Some(len) if len > avail => {
                return Err(Rejection::malformed("data chunk extends past end of file"))
            }
            Some(len) => len,
            None => avail,
        };
        let secs = l.check_duration(len as f64 / f64::from(fmt.byte_rate))?;
        Ok(Verdict::audio(
            Format::Wav,
            Some(fmt.sample_rate),
            Some(fmt.channels),
            Some(secs),
            end.total,
        ))
    }
}

/// `WAVE_FORMAT_*` codes whose byte rate is exactly rate × block align.
fn is_pcm_like(tag: u16) -> bool {
    matches!(tag, 1 | 3 | 6 | 7 | 0xFFFE)
}

fn parse_fmt(w: &[u8], l: &Limits) -> Result<Fmt, Rejection> {
    let b = read::slice(w, 8, 16)?;
    let tag = read::le16(b, 0)?;
    let channels = read::le16(b, 2)?;
    let sample_rate = read::le32(b, 4)?;
    let byte_rate = read::le32(b, 8)?;
    let block_align = read::le16(b, 12)?;
    let bits = read::le16(b, 14)?;
    if channels == 0 {
        return Err(Rejection::malformed("fmt chunk has no channels"));
    }
    if sample_rate == 0 {
        return Err(Rejection::malformed("fmt chunk sample rate is 0"));
    }
    if byte_rate == 0 {
        return Err(Rejection::malformed("fmt chunk byte rate is 0"));
    }
    if block_align == 0 {
        return Err(Rejection::malformed("fmt chunk block align is 0"));
    }
    if is_pcm_like(tag) {
        if bits == 0 || u32::from(block_align) != u32::from(channels) * u32::from(bits.div_ceil(8))
        {
            return Err(Rejection::malformed(
                "block align inconsistent with channels and sample size",
            ));
        }
        if u64::from(byte_rate) != u64::from(sample_rate) * u64::from(block_align) {
            return Err(Rejection::malformed(
                "byte rate inconsistent with sample rate and block align",
            ));
        }
    }
    l.check_rate(sample_rate)?;
    Ok(Fmt {
        channels,
        sample_rate,
        byte_rate,
    })
}
