//! The streaming engine: a bounded window over the body, a byte count,
//! and one format parser that says how many bytes it needs next.
//!
//! # How parsers talk to the engine
//!
//! A parser sees the window (the buffered bytes, starting at stream offset
//! `off`) and answers with a [`Step`]:
//!
//! - [`Step::Need`]`(n)`: call me again once the window holds `n` bytes.
//!   `n` above [`HEADER_BUFFER`] is a rejection: a header that does not fit
//!   is refused, the buffer never grows past the bound.
//! - [`Step::Seek`]`(to)`: drop everything before stream offset `to`. When
//!   `to` lies past the window, the engine discards incoming bytes until it
//!   gets there without storing them. This is how an ID3 tag, an `mdat` box
//!   or an Ogg page body is skipped, and `Seek(u64::MAX)` means "nothing
//!   more to look at, just count".
//!
//! # Why the result does not depend on chunking
//!
//! Parsers decide only from the bytes at fixed positions they asked for
//! with `Need`, never from how many bytes happen to be buffered, and the
//! engine runs the parser over everything it has before it takes more. A
//! body therefore yields the same verdict, and the same rejection at the
//! same byte, however it is cut into chunks. The byte limit follows the
//! same rule: the bytes up to the limit are parsed first, so a header
//! error before the limit wins over `TooLarge` in every chunking.

use crate::limits::Limits;
use crate::{detect, flac, mp3, mp4, ogg, text, wav, zip, Format, Rejection};

/// The most bytes a [`Sniffer`] buffers: 64 KiB. Every header this crate
/// reads must fit in it; a larger one is [`Rejection::Malformed`].
pub const HEADER_BUFFER: usize = 64 * 1024;

/// Where a body stands after a chunk was accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Not enough bytes yet to tell the format.
    Sniffing,
    /// The format is known and allowed; later bytes may still be refused
    /// (size, duration, a lying header).
    Identified(Format),
}

/// What an accepted upload is.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// The format found in the content.
    pub format: Format,
    /// Audio: the sample rate in Hz (for Opus, the input rate the encoder
    /// recorded; Opus itself always decodes at 48 kHz).
    pub sample_rate: Option<u32>,
    /// Audio: the channel count, when the header gives it.
    pub channels: Option<u16>,
    /// Audio: the duration in seconds, from the header or, for MP3
    /// without a Xing/VBRI header, estimated from size and bitrate.
    pub duration_secs: Option<f64>,
    /// Plain text: the number of Unicode scalar values.
    pub chars: Option<u64>,
    /// Total bytes of the body.
    pub bytes: u64,
}

impl Verdict {
    pub(crate) fn document(format: Format, bytes: u64) -> Verdict {
        Verdict {
            format,
            sample_rate: None,
            channels: None,
            duration_secs: None,
            chars: None,
            bytes,
        }
    }

    pub(crate) fn audio(
        format: Format,
        sample_rate: Option<u32>,
        channels: Option<u16>,
        duration_secs: Option<f64>,
        bytes: u64,
    ) -> Verdict {
        Verdict {
            format,
            sample_rate,
            channels,
            duration_secs,
            chars: None,
            bytes,
        }
    }
}

/// A parser's answer; see the module documentation.
#[derive(Debug)]
pub(crate) enum Step {
    Need(usize),
    Seek(u64),
}

/// What a parser sees when the body has ended.
#[derive(Debug)]
pub(crate) struct End<'a> {
    /// Total bytes of the body.
    pub total: u64,
    /// Bytes buffered but not consumed: a partial header when non-empty.
    pub rest: &'a [u8],
    /// The last `Seek` pointed past the end: a skipped structure (tag, box,
    /// page, chunk) is truncated.
    pub cut: bool,
}

impl End<'_> {
    /// The body ended exactly on a structure boundary.
    pub(crate) fn clean(&self) -> bool {
        self.rest.is_empty() && !self.cut
    }
}

/// The parser for the format found, or the detector before that.
#[derive(Debug)]
pub(crate) enum Parser {
    Detect,
    Wav(wav::Wav),
    Mp3(mp3::Mp3),
    Flac(flac::Flac),
    Mp4(mp4::Mp4),
    Ogg(ogg::Ogg),
    Zip(zip::Zip),
    Text(text::Text),
    /// A format fully identified by its first bytes (PDF, OLE2, RTF):
    /// nothing more is read.
    Done {
        format: Format,
        min_len: u64,
    },
}

impl Parser {
    fn format(&self) -> Option<Format> {
        match self {
            Parser::Detect => None,
            Parser::Wav(_) => Some(Format::Wav),
            Parser::Mp3(p) => p.format(),
            Parser::Flac(_) => Some(Format::Flac),
            Parser::Mp4(p) => p.format(),
            Parser::Ogg(p) => p.format(),
            Parser::Zip(p) => p.format(),
            Parser::Text(_) => Some(Format::Text),
            Parser::Done { format, .. } => Some(*format),
        }
    }
}

/// Validates one upload while it streams.
///
/// Feed the body with [`push`](Sniffer::push) as it arrives and call
/// [`finish`](Sniffer::finish) at its end. The first rejection is final:
/// later calls return it again. Memory is bounded by [`HEADER_BUFFER`]
/// whatever the input.
///
/// ```
/// use amanah_media::{Format, Limits, Sniffer};
///
/// let mut s = Sniffer::new(Limits::default());
/// s.push(b"%PDF-1.7\n").unwrap();
/// s.push(b"%%EOF\n").unwrap();
/// assert_eq!(s.finish().unwrap().format, Format::Pdf);
/// ```
#[derive(Debug)]
pub struct Sniffer {
    limits: Limits,
    /// Bytes accepted so far (never more than `max_bytes`).
    bytes: u64,
    /// Buffered bytes, at most [`HEADER_BUFFER`].
    win: Vec<u8>,
    /// Stream offset of `win[0]`.
    win_off: u64,
    /// Incoming bytes before this offset are counted and dropped.
    skip_to: u64,
    parser: Parser,
    failed: Option<Rejection>,
}

impl Sniffer {
    /// A sniffer for one body.
    pub fn new(limits: Limits) -> Sniffer {
        Sniffer {
            limits,
            bytes: 0,
            win: Vec::new(),
            win_off: 0,
            skip_to: 0,
            parser: Parser::Detect,
            failed: None,
        }
    }

    /// Bytes accepted so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Feeds the next chunk of the body.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] as soon as the bytes so far suffice to refuse the
    /// upload; the same one on every later call.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Progress, Rejection> {
        if let Some(r) = &self.failed {
            return Err(r.clone());
        }
        let result = self.push_inner(chunk);
        self.settle(result)
    }

    /// Ends the body and returns the verdict.
    ///
    /// # Errors
    ///
    /// The [`Rejection`] a `push` already returned, or one only the end
    /// can show: a truncated file, a duration known only at the end, a
    /// format never identified.
    pub fn finish(mut self) -> Result<Verdict, Rejection> {
        if let Some(r) = self.failed.take() {
            return Err(r);
        }
        // A skip still pending past the end (a tag, box or page longer
        // than the body) leaves nothing for the parser to read.
        if self.skip_to <= self.bytes {
            self.run(true)?;
        }
        let end = End {
            total: self.bytes,
            rest: &self.win,
            cut: self.skip_to > self.bytes,
        };
        let l = &self.limits;
        let verdict = match &mut self.parser {
            Parser::Detect => Err(detect::at_end(&end)),
            Parser::Wav(p) => p.finish(&end, l),
            Parser::Mp3(p) => p.finish(&end, l),
            Parser::Flac(p) => p.finish(&end, l),
            Parser::Mp4(p) => p.finish(&end, l),
            Parser::Ogg(p) => p.finish(&end, l),
            Parser::Zip(p) => p.finish(&end),
            Parser::Text(p) => p.finish(&end),
            Parser::Done { format, min_len } => {
                if end.total < *min_len {
                    Err(Rejection::malformed("file ends inside its header"))
                } else {
                    Ok(Verdict::document(*format, end.total))
                }
            }
        }?;
        // A verdict's format was checked when identified; checked again
        // here so that no path can bypass the allow list.
        self.limits.check_allowed(verdict.format)?;
        Ok(verdict)
    }

    fn settle<T>(&mut self, result: Result<T, Rejection>) -> Result<T, Rejection> {
        if let Err(r) = &result {
            self.failed = Some(r.clone());
            // Nothing more will be read: give the buffer back now.
            self.win = Vec::new();
        }
        result
    }

    fn push_inner(&mut self, chunk: &[u8]) -> Result<Progress, Rejection> {
        let room = self.limits.max_bytes.saturating_sub(self.bytes);
        let take = usize::try_from(room).unwrap_or(usize::MAX).min(chunk.len());
        let (within, beyond) = chunk.split_at(take);
        // The bytes within the limit are parsed first, so that the first
        // rejection in stream order wins whatever the chunking.
        self.feed(within)?;
        if !beyond.is_empty() {
            return Err(Rejection::TooLarge {
                max_bytes: self.limits.max_bytes,
            });
        }
        Ok(match self.parser.format() {
            Some(f) => Progress::Identified(f),
            None => Progress::Sniffing,
        })
    }

    fn feed(&mut self, mut input: &[u8]) -> Result<(), Rejection> {
        while !input.is_empty() {
            if self.bytes < self.skip_to {
                let gap = self.skip_to - self.bytes;
                let n = usize::try_from(gap).unwrap_or(usize::MAX).min(input.len());
                input = input.get(n..).unwrap_or_default();
                self.bytes = self.bytes.saturating_add(n as u64);
                continue;
            }
            let room = HEADER_BUFFER.saturating_sub(self.win.len());
            let n = room.min(input.len());
            if n == 0 {
                // The parser left a full window unconsumed; `run` rejects
                // that, so this is unreachable, but never loop forever.
                return Err(Rejection::malformed("header exceeds the 64 KiB buffer"));
            }
            let (now, later) = input.split_at(n);
            self.grow_for(n);
            self.win.extend_from_slice(now);
            self.bytes = self.bytes.saturating_add(n as u64);
            input = later;
            self.run(false)?;
        }
        Ok(())
    }

    /// Reserves room for `n` more bytes, doubling but never past
    /// [`HEADER_BUFFER`] (plain `extend` could double to 128 KiB).
    fn grow_for(&mut self, n: usize) {
        let need = self.win.len().saturating_add(n);
        if need > self.win.capacity() {
            let target = need
                .max(self.win.capacity().saturating_mul(2))
                .clamp(256, HEADER_BUFFER);
            self.win
                .reserve_exact(target.saturating_sub(self.win.len()));
        }
    }

    /// Runs the parser until it needs bytes the window does not hold.
    fn run(&mut self, eof: bool) -> Result<(), Rejection> {
        loop {
            let w = &self.win;
            let off = self.win_off;
            let l = &self.limits;
            let step = match &mut self.parser {
                Parser::Detect => match detect::detect(w, eof, l)? {
                    detect::Detected::Need(n) => Step::Need(n),
                    detect::Detected::Start(p) => {
                        self.parser = p;
                        continue;
                    }
                },
                Parser::Wav(p) => p.step(w, off, l)?,
                Parser::Mp3(p) => p.step(w, off, eof, l)?,
                Parser::Flac(p) => p.step(w, off, l)?,
                Parser::Mp4(p) => p.step(w, off, l)?,
                Parser::Ogg(p) => p.step(w, off, l)?,
                Parser::Zip(p) => p.step(w, off, eof, l)?,
                Parser::Text(p) => p.step(w, off, l)?,
                Parser::Done { .. } => Step::Seek(u64::MAX),
            };
            match step {
                Step::Need(n) => {
                    if n > HEADER_BUFFER {
                        return Err(Rejection::malformed("header exceeds the 64 KiB buffer"));
                    }
                    if n <= self.win.len() {
                        // A parser asking for what it has would loop.
                        return Err(Rejection::malformed("internal: parser made no progress"));
                    }
                    return Ok(());
                }
                Step::Seek(to) => {
                    self.seek(to)?;
                    // An empty window cannot satisfy any parser: wait for
                    // bytes (and never call a finished parser again at
                    // `u64::MAX`, where it could not advance).
                    if self.win.is_empty() {
                        return Ok(());
                    }
                }
            }
        }
    }

    fn seek(&mut self, to: u64) -> Result<(), Rejection> {
        if to <= self.win_off {
            return Err(Rejection::malformed("internal: parser made no progress"));
        }
        let end = self.win_off.saturating_add(self.win.len() as u64);
        if to <= end {
            let n = usize::try_from(to - self.win_off).unwrap_or(usize::MAX);
            self.win.drain(..n.min(self.win.len()));
        } else {
            self.win.clear();
            self.skip_to = to;
        }
        self.win_off = to;
        Ok(())
    }
}

/// Sniffs a body held whole in memory: [`Sniffer::push`] once, then
/// [`Sniffer::finish`].
///
/// # Errors
///
/// As [`Sniffer::finish`].
pub fn sniff(limits: Limits, body: &[u8]) -> Result<Verdict, Rejection> {
    let mut s = Sniffer::new(limits);
    s.push(body)?;
    s.finish()
}
