//! Plain UTF-8 text, checked whole as it streams.
//!
//! Detection only looked at the first 1024 bytes; from there on every byte
//! is validated with an incremental UTF-8 decoder that carries a sequence
//! cut between chunks, so invalid UTF-8 or a NUL later in the body is
//! malformed, and the character count is enforced at the character that
//! exceeds it.

use crate::sniffer::{End, Step, Verdict};
use crate::{Format, Limits, Rejection};

#[derive(Debug)]
pub(crate) struct Text {
    chars: u64,
    /// Continuation bytes still expected, and the range the next one must
    /// fall in (narrower after E0, ED, F0 and F4, which rules out overlong
    /// forms, surrogates and code points past U+10FFFF).
    pending: u8,
    lo: u8,
    hi: u8,
}

impl Text {
    pub(crate) fn new() -> Text {
        Text {
            chars: 0,
            pending: 0,
            lo: 0x80,
            hi: 0xBF,
        }
    }

    pub(crate) fn step(&mut self, w: &[u8], off: u64, l: &Limits) -> Result<Step, Rejection> {
        if w.is_empty() {
            return Ok(Step::Need(1));
        }
        for &b in w {
            self.byte(b, l)?;
        }
        Ok(Step::Seek(off.saturating_add(w.len() as u64)))
    }

    fn byte(&mut self, b: u8, l: &Limits) -> Result<(), Rejection> {
        const INVALID: Rejection = Rejection::malformed("invalid UTF-8 in text");
        if self.pending > 0 {
            if !(self.lo..=self.hi).contains(&b) {
                return Err(INVALID);
            }
            self.pending -= 1;
            self.lo = 0x80;
            self.hi = 0xBF;
            return Ok(());
        }
        let (pending, lo, hi) = match b {
            0 => return Err(Rejection::malformed("NUL byte in text")),
            0x01..=0x7F => (0, 0x80, 0xBF),
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xE1..=0xEF => (2, 0x80, 0xBF),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            _ => return Err(INVALID),
        };
        self.pending = pending;
        self.lo = lo;
        self.hi = hi;
        self.chars = self.chars.saturating_add(1);
        if self.chars > l.max_text_chars {
            return Err(Rejection::TooManyChars {
                max_chars: l.max_text_chars,
            });
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self, end: &End<'_>) -> Result<Verdict, Rejection> {
        if self.pending > 0 {
            return Err(Rejection::malformed("text ends inside a UTF-8 sequence"));
        }
        Ok(Verdict {
            chars: Some(self.chars),
            ..Verdict::document(Format::Text, end.total)
        })
    }
}
