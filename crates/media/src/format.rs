//! The formats the sniffer recognizes, and sets of them for [`Limits`].
//!
//! [`Limits`]: crate::Limits

use std::fmt;
use std::ops::BitOr;

/// A format identified from the content of an upload (never from its name
/// or its declared `Content-Type`, which the client controls).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// RIFF/WAVE or RF64/WAVE audio.
    Wav,
    /// MPEG-1/2/2.5 Layer III audio, optionally behind ID3v2 tags.
    Mp3,
    /// Native FLAC (`fLaC` + STREAMINFO).
    Flac,
    /// ISO base media (MP4/M4A) with an audio track and no video track.
    M4a,
    /// Ogg with a Vorbis stream.
    OggVorbis,
    /// Ogg with an Opus stream.
    OggOpus,
    /// PDF.
    Pdf,
    /// Office Open XML word processing document.
    Docx,
    /// Office Open XML spreadsheet.
    Xlsx,
    /// Office Open XML presentation.
    Pptx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// OpenDocument presentation.
    Odp,
    /// A legacy OLE2 compound file (`.doc`, `.xls`, `.ppt`, also
    /// password-protected OOXML). Which one cannot be told from a bounded
    /// prefix: the directory may sit anywhere in the file.
    Ole2,
    /// Rich Text Format.
    Rtf,
    /// UTF-8 plain text.
    Text,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: [Format; 16] = [
        Format::Wav,
        Format::Mp3,
        Format::Flac,
        Format::M4a,
        Format::OggVorbis,
        Format::OggOpus,
        Format::Pdf,
        Format::Docx,
        Format::Xlsx,
        Format::Pptx,
        Format::Odt,
        Format::Ods,
        Format::Odp,
        Format::Ole2,
        Format::Rtf,
        Format::Text,
    ];

    /// The media type to forward upstream in place of the client's
    /// declared one.
    pub const fn media_type(self) -> &'static str {
        match self {
            Format::Wav => "audio/wav",
            Format::Mp3 => "audio/mpeg",
            Format::Flac => "audio/flac",
            Format::M4a => "audio/mp4",
            Format::OggVorbis | Format::OggOpus => "audio/ogg",
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Format::Odp => "application/vnd.oasis.opendocument.presentation",
            Format::Ole2 => "application/x-ole-storage",
            Format::Rtf => "application/rtf",
            Format::Text => "text/plain; charset=utf-8",
        }
    }

    /// Whether this is an audio format (it then reports a sample rate).
    pub const fn is_audio(self) -> bool {
        matches!(
            self,
            Format::Wav
                | Format::Mp3
                | Format::Flac
                | Format::M4a
                | Format::OggVorbis
                | Format::OggOpus
        )
    }

    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Format::Wav => "wav",
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::M4a => "m4a",
            Format::OggVorbis => "ogg-vorbis",
            Format::OggOpus => "ogg-opus",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Xlsx => "xlsx",
            Format::Pptx => "pptx",
            Format::Odt => "odt",
            Format::Ods => "ods",
            Format::Odp => "odp",
            Format::Ole2 => "ole2",
            Format::Rtf => "rtf",
            Format::Text => "text",
        };
        f.write_str(name)
    }
}

/// A set of [`Format`]s, the ones a route accepts.
///
/// Combine with `|`: `FormatSet::AUDIO | FormatSet::TEXT`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FormatSet(u32);

impl FormatSet {
    /// No format at all: every upload is refused.
    pub const EMPTY: FormatSet = FormatSet(0);
    /// WAV, MP3, FLAC, M4A, Ogg Vorbis and Ogg Opus.
    pub const AUDIO: FormatSet = FormatSet::of(&[
        Format::Wav,
        Format::Mp3,
        Format::Flac,
        Format::M4a,
        Format::OggVorbis,
        Format::OggOpus,
    ]);
    /// PDF, OOXML, OpenDocument, legacy OLE2 and RTF (not plain text).
    pub const DOCUMENTS: FormatSet = FormatSet::of(&[
        Format::Pdf,
        Format::Docx,
        Format::Xlsx,
        Format::Pptx,
        Format::Odt,
        Format::Ods,
        Format::Odp,
        Format::Ole2,
        Format::Rtf,
    ]);
    /// UTF-8 plain text.
    pub const TEXT: FormatSet = FormatSet::of(&[Format::Text]);
    /// Every format this crate recognizes.
    pub const ALL: FormatSet = FormatSet::of(&Format::ALL);

    /// The set holding exactly `formats`.
    pub const fn of(formats: &[Format]) -> FormatSet {
        let mut bits = 0;
        let mut i = 0;
        while i < formats.len() {
            bits |= formats[i].bit();
            i += 1;
        }
        FormatSet(bits)
    }

    /// Both sets together.
    pub const fn union(self, other: FormatSet) -> FormatSet {
        FormatSet(self.0 | other.0)
    }

    /// This set with `format` added.
    pub const fn with(self, format: Format) -> FormatSet {
        FormatSet(self.0 | format.bit())
    }

    /// This set without `format`.
    pub const fn without(self, format: Format) -> FormatSet {
        FormatSet(self.0 & !format.bit())
    }

    /// Whether `format` is in the set.
    pub const fn contains(self, format: Format) -> bool {
        self.0 & format.bit() != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The formats in the set, in [`Format::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Format> {
        Format::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl BitOr for FormatSet {
    type Output = FormatSet;
    fn bitor(self, rhs: FormatSet) -> FormatSet {
        self.union(rhs)
    }
}

impl From<Format> for FormatSet {
    fn from(format: Format) -> FormatSet {
        FormatSet(format.bit())
    }
}

impl fmt::Debug for FormatSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_partition_the_formats() {
        for f in Format::ALL {
            let n = [FormatSet::AUDIO, FormatSet::DOCUMENTS, FormatSet::TEXT]
                .iter()
                .filter(|s| s.contains(f))
                .count();
            assert_eq!(n, 1, "{f}");
            assert_eq!(f.is_audio(), FormatSet::AUDIO.contains(f));
            assert!(FormatSet::ALL.contains(f));
        }
        assert_eq!(
            FormatSet::AUDIO | FormatSet::DOCUMENTS | FormatSet::TEXT,
            FormatSet::ALL
        );
        assert!(!FormatSet::ALL.without(Format::Pdf).contains(Format::Pdf));
        assert!(FormatSet::EMPTY.with(Format::Pdf).contains(Format::Pdf));
    }
}
