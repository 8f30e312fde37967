//! FLAC: `fLaC`, STREAMINFO first, further metadata blocks, then frames.
//!
//! STREAMINFO gives the sample rate, channels and total samples (so the
//! duration, checked at once when the count is known; 0 means unknown).
//! The other metadata blocks (Vorbis comments, pictures, padding) are
//! skipped by their length; the first audio frame must then start with the
//! FLAC frame sync code, which catches metadata lengths that lie.

use crate::sniffer::{End, Step, Verdict};
use crate::{read, Format, Limits, Rejection};

const STREAMINFO_LEN: usize = 34;

#[derive(Debug)]
enum Phase {
    Magic,
    Block { first: bool },
    FrameSync,
    Done,
}

#[derive(Debug)]
pub(crate) struct Flac {
    phase: Phase,
    sample_rate: u32,
    channels: u16,
    duration: Option<f64>,
}

impl Flac {
    pub(crate) fn new() -> Flac {
        Flac {
            phase: Phase::Magic,
            sample_rate: 0,
            channels: 0,
            duration: None,
        }
    }

    pub(crate) fn step(&mut self, w: &[u8], off: u64, l: &Limits) -> Result<Step, Rejection> {
        match self.phase {
            Phase::Magic => {
                if w.len() < 4 {
                    return Ok(Step::Need(4));
                }
                self.phase = Phase::Block { first: true };
                Ok(Step::Seek(off.saturating_add(4)))
            }
            Phase::Block { first } => self.block(w, off, first, l),
            Phase::FrameSync => {
                if w.len() < 2 {
                    return Ok(Step::Need(2));
                }
                let sync = read::be16(w, 0)?;
                if sync & 0xFFFE != 0xFFF8 {
                    return Err(Rejection::malformed("no FLAC frame after the metadata"));
                }
                self.phase = Phase::Done;
                Ok(Step::Seek(u64::MAX))
            }
            Phase::Done => Ok(Step::Seek(u64::MAX)),
        }
    }

    fn block(&mut self, w: &[u8], off: u64, first: bool, l: &Limits) -> Result<Step, Rejection> {
        if w.len() < 4 {
            return Ok(Step::Need(4));
        }
        let head = read::be32(w, 0)?;
        let last = head & 0x8000_0000 != 0;
        let kind = (head >> 24) & 0x7F;
        let len = head & 0x00FF_FFFF;
        if kind == 127 {
            return Err(Rejection::malformed("invalid FLAC metadata block type"));
        }
        if first {
            if kind != 0 || len as usize != STREAMINFO_LEN {
                return Err(Rejection::malformed("FLAC does not start with STREAMINFO"));
            }
            if w.len() < 4 + STREAMINFO_LEN {
                return Ok(Step::Need(4 + STREAMINFO_LEN));
            }
            self.streaminfo(read::slice(w, 4, STREAMINFO_LEN)?, l)?;
        } else if kind == 0 {
            return Err(Rejection::malformed("second FLAC STREAMINFO block"));
        }
        self.phase = if last {
            Phase::FrameSync
        } else {
            Phase::Block { first: false }
        };
        Ok(Step::Seek(read::offset(off, 4 + u64::from(len))?))
    }

    fn streaminfo(&mut self, b: &[u8], l: &Limits) -> Result<(), Rejection> {
        let min_block = read::be16(b, 0)?;
        let max_block = read::be16(b, 2)?;
        // Bytes 10..18: rate (20 bits), channels - 1 (3), bits - 1 (5),
        // total samples (36).
        let packed = read::be64(b, 10)?;
        let sample_rate = (packed >> 44) as u32;
        let channels = ((packed >> 41) & 0x7) as u16 + 1;
        let bits = ((packed >> 36) & 0x1F) as u16 + 1;
        let total = packed & 0xF_FFFF_FFFF;
        if sample_rate == 0 {
            return Err(Rejection::malformed("FLAC sample rate is 0"));
        }
        if min_block < 16 || max_block < min_block {
            return Err(Rejection::malformed("FLAC block sizes invalid"));
        }
        if bits < 4 {
            return Err(Rejection::malformed("FLAC sample size invalid"));
        }
        self.sample_rate = l.check_rate(sample_rate)?;
        self.channels = channels;
        if total > 0 {
            self.duration = Some(l.check_duration(total as f64 / f64::from(sample_rate))?);
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self, end: &End<'_>, _l: &Limits) -> Result<Verdict, Rejection> {
        if !matches!(self.phase, Phase::Done) {
            return Err(Rejection::malformed("file ends inside the FLAC metadata"));
        }
        Ok(Verdict::audio(
            Format::Flac,
            Some(self.sample_rate),
            Some(self.channels),
            self.duration,
            end.total,
        ))
    }
}
