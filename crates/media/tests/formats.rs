//! Each format built by hand, accepted whole, byte by byte and in random
//! chunks with the same verdict; then its limits and lying headers.

mod common;

use amanah_media::{Format, FormatSet, Limits, Progress, Rejection, Sniffer, HEADER_BUFFER};
use common::*;

fn malformed(reason: &'static str) -> Rejection {
    Rejection::Malformed { reason }
}

// ---- accepted, with the header's numbers ----

#[test]
fn wav_reports_rate_channels_duration() {
    let v = accept(&wav(16000, 64000));
    assert_eq!(v.format, Format::Wav);
    assert_eq!(v.sample_rate, Some(16000));
    assert_eq!(v.channels, Some(1));
    assert_eq!(v.duration_secs, Some(2.0));
    assert_eq!(v.bytes, 44 + 64000);
}

#[test]
fn wav_fmt_after_list_and_odd_chunk_padding() {
    let body = riff(&[
        chunk(b"LIST", b"INFOISFT\x03\0\0\0abc"),
        chunk(b"JUNK", &[0; 3]),
        chunk(b"fmt ", &fmt_body(22050, 2, 16)),
        chunk(b"data", &[0; 88200]),
        chunk(b"LIST", &[1; 20]),
    ]);
    let v = accept(&body);
    assert_eq!((v.sample_rate, v.channels), (Some(22050), Some(2)));
    assert_eq!(v.duration_secs, Some(1.0));
}

#[test]
fn wav_streamed_data_size_runs_to_the_end() {
    let mut body = riff(&[chunk(b"fmt ", &fmt_body(8000, 1, 16))]);
    body.extend_from_slice(b"data\xFF\xFF\xFF\xFF");
    body.extend_from_slice(&[0; 16000]);
    body[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(accept(&body).duration_secs, Some(1.0));
}

#[test]
fn mp3_raw_and_behind_a_large_id3_tag() {
    let v = accept(&mp3_frames(MP3_HDR, 20));
    assert_eq!(v.format, Format::Mp3);
    assert_eq!((v.sample_rate, v.channels), (Some(44100), Some(2)));
    // Estimated from size and bitrate: 20 × 417 bytes at 128 kbit/s.
    let est = v.duration_secs.unwrap();
    assert!((est - 20.0 * 417.0 * 8.0 / 128_000.0).abs() < 1e-9, "{est}");

    // A 200 KiB tag (cover art) is skipped, not buffered.
    let mut body = id3(200 * 1024);
    body.extend(mp3_frames(MP3_HDR, 3));
    assert_eq!(accept(&body).format, Format::Mp3);
}

#[test]
fn mp3_xing_header_gives_the_duration() {
    let mut body = id3(100);
    body.extend(mp3_xing(441, 3));
    let secs = accept(&body).duration_secs.unwrap();
    assert!((secs - 441.0 * 1152.0 / 44100.0).abs() < 1e-9);
}

#[test]
fn mp3_needs_two_chained_frames() {
    assert_eq!(
        reject(&mp3_frames(MP3_HDR, 1)),
        Rejection::UnsupportedType { format: None }
    );
    // A frame header followed by garbage where the next should be.
    let mut body = mp3_frames(MP3_HDR, 1);
    body.extend_from_slice(&[0x55; 600]);
    assert_eq!(reject(&body), Rejection::UnsupportedType { format: None });
}

#[test]
fn flac_reports_streaminfo() {
    let v = accept(&flac(44100, 44100 * 3));
    assert_eq!(v.format, Format::Flac);
    assert_eq!((v.sample_rate, v.channels), (Some(44100), Some(2)));
    assert_eq!(v.duration_secs, Some(3.0));
    // Total samples 0: unknown duration.
    assert_eq!(accept(&flac(44100, 0)).duration_secs, None);
}

#[test]
fn ogg_vorbis_and_opus() {
    let v = accept(&ogg(&vorbis_ident(44100), 44100 * 5));
    assert_eq!(v.format, Format::OggVorbis);
    assert_eq!(v.sample_rate, Some(44100));
    assert_eq!(v.duration_secs, Some(5.0));

    // Opus: the input rate is reported, granules count 48 kHz samples
    // after the pre-skip.
    let v = accept(&ogg(&opus_head(16000), 48000 * 2 + 312));
    assert_eq!(v.format, Format::OggOpus);
    assert_eq!(v.sample_rate, Some(16000));
    assert_eq!(v.duration_secs, Some(2.0));
    // Input rate 0 (unknown) reads as 48 kHz.
    assert_eq!(accept(&ogg(&opus_head(0), 48000)).sample_rate, Some(48000));
}

#[test]
fn m4a_moov_before_or_after_mdat() {
    for moov_last in [false, true] {
        let v = accept(&m4a(44100, 7, moov_last));
        assert_eq!(v.format, Format::M4a);
        assert_eq!((v.sample_rate, v.channels), (Some(44100), Some(2)));
        assert_eq!(v.duration_secs, Some(7.0));
    }
}

#[test]
fn m4a_mdat_larger_than_the_buffer_is_skipped() {
    let mut body = m4a(16000, 2, true);
    // Grow mdat (after ftyp, 24 bytes) to 300 KiB.
    let mdat_len = 8 + 300 * 1024;
    let ftyp = body[..24].to_vec();
    let moov = body[24 + 8 + 5000..].to_vec();
    body = ftyp;
    body.extend_from_slice(&(mdat_len as u32).to_be_bytes());
    body.extend_from_slice(b"mdat");
    body.resize(24 + mdat_len, 0);
    body.extend(moov);
    assert_eq!(accept(&body).duration_secs, Some(2.0));
}

#[test]
fn documents() {
    assert_eq!(accept(b"%PDF-1.4\n%%EOF\n").format, Format::Pdf);
    let mut late = vec![b' '; 1000];
    late.extend_from_slice(b"%PDF-2.0\n");
    assert_eq!(accept(&late).format, Format::Pdf);
    assert_eq!(accept(&ooxml(b"word/document.xml")).format, Format::Docx);
    assert_eq!(accept(&ooxml(b"xl/workbook.xml")).format, Format::Xlsx);
    assert_eq!(accept(&ooxml(b"ppt/presentation.xml")).format, Format::Pptx);
    assert_eq!(accept(&odf("text")).format, Format::Odt);
    assert_eq!(accept(&odf("spreadsheet")).format, Format::Ods);
    assert_eq!(accept(&odf("presentation")).format, Format::Odp);
    assert_eq!(accept(&ole2()).format, Format::Ole2);
    assert_eq!(accept(b"{\\rtf1\\ansi hi}").format, Format::Rtf);
}

#[test]
fn ooxml_with_large_first_entry_is_skipped_by_size() {
    let body = cat(&[
        &local(b"[Content_Types].xml", &vec![b'x'; 200 * 1024]),
        &local(b"word/document.xml", b"<w/>"),
    ]);
    assert_eq!(accept(&body).format, Format::Docx);
}

#[test]
fn ooxml_entry_with_data_descriptor_is_scanned_past() {
    let mut first = local(b"[Content_Types].xml", &[0x11; 500]);
    first[6] = 8; // data descriptor flag
    first[18..22].copy_from_slice(&[0; 4]); // compressed size unknown
    let body = cat(&[&first, b"PK\x07\x08", &[0; 12], &local(b"word/a.xml", b"")]);
    assert_eq!(accept(&body).format, Format::Docx);
}

#[test]
fn zip_without_content_types_is_not_ooxml() {
    let body = cat(&[&local(b"word/document.xml", b"<w/>"), CENTRAL]);
    assert_eq!(reject(&body), Rejection::UnsupportedType { format: None });
}

#[test]
fn text_counts_chars_across_chunk_boundaries() {
    let text = "héllo wörld — 日本語 🎉\n".repeat(500);
    let v = accept(text.as_bytes());
    assert_eq!(v.format, Format::Text);
    assert_eq!(v.chars, Some(text.chars().count() as u64));
    assert_eq!(v.sample_rate, None);
}

#[test]
fn text_limits_and_late_invalid_utf8() {
    let limits = Limits {
        max_text_chars: 10,
        ..Limits::default()
    };
    assert!(check(&limits, "ü".repeat(10).as_bytes()).is_ok());
    assert_eq!(
        check(&limits, "ü".repeat(11).as_bytes()),
        Err(Rejection::TooManyChars { max_chars: 10 })
    );
    for bad in [
        &b"\xED\xA0\x80"[..],
        b"\xF4\x90\x80\x80",
        b"\xE0\x80\x80",
        b"\xC1\xBF",
        b"\xFF",
    ] {
        let body = cat(&[&[b'a'; 2000], bad]);
        assert_eq!(reject(&body), malformed("invalid UTF-8 in text"), "{bad:?}");
    }
    let cut = cat(&[&[b'a'; 2000], b"\xE6\x97"]);
    assert_eq!(reject(&cut), malformed("text ends inside a UTF-8 sequence"));
    assert_eq!(reject(b""), malformed("empty body"));
}

// ---- sample rate bounds ----

type Build = Box<dyn Fn(u32) -> Vec<u8>>;

fn rate_result(build: impl Fn(u32) -> Vec<u8>, hz: u32) -> Result<(), Rejection> {
    check(&Limits::default(), &build(hz)).map(|_| ())
}

#[test]
fn sample_rate_bounds_are_inclusive_for_every_free_rate_format() {
    let builders: [(&str, Build); 5] = [
        ("wav", Box::new(|hz| wav(hz, 1000))),
        ("flac", Box::new(|hz| flac(hz, u64::from(hz)))),
        (
            "vorbis",
            Box::new(|hz| ogg(&vorbis_ident(hz), u64::from(hz))),
        ),
        ("opus", Box::new(|hz| ogg(&opus_head(hz), 48000))),
        ("m4a", Box::new(|hz| m4a(hz, 1, false))),
    ];
    for (name, build) in &builders {
        for hz in [8000, 48000] {
            assert_eq!(rate_result(build, hz), Ok(()), "{name} {hz}");
        }
        for hz in [7999, 48001] {
            assert_eq!(
                rate_result(build, hz),
                Err(Rejection::SampleRate { hz }),
                "{name} {hz}"
            );
        }
    }
}

#[test]
fn mp3_sample_rate_bounds_from_the_table() {
    // MPEG-2.5 8 kHz and MPEG-1 48 kHz are the extremes of the table.
    let low = mp3_frames([0xFF, 0xE3, 0x18, 0xC4], 3);
    let high = mp3_frames([0xFF, 0xFB, 0x94, 0x64], 3);
    assert_eq!(accept(&low).sample_rate, Some(8000));
    assert_eq!(accept(&high).sample_rate, Some(48000));
    let narrow = Limits {
        min_sample_rate: 8001,
        max_sample_rate: 47999,
        ..Limits::default()
    };
    assert_eq!(
        check(&narrow, &low),
        Err(Rejection::SampleRate { hz: 8000 })
    );
    assert_eq!(
        check(&narrow, &high),
        Err(Rejection::SampleRate { hz: 48000 })
    );
}

// ---- duration ----

fn one_hour() -> Limits {
    Limits {
        max_duration_secs: 3600,
        ..Limits::default()
    }
}

#[test]
fn wav_too_long_is_refused_at_the_data_header() {
    // 8 kHz mono 16-bit: 16000 bytes per second; declare 3601 s.
    let data_len = 16000u32 * 3601;
    let mut header = riff(&[chunk(b"fmt ", &fmt_body(8000, 1, 16))]);
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_len.to_le_bytes());
    let riff_len = header.len() as u32 - 8 + data_len;
    header[4..8].copy_from_slice(&riff_len.to_le_bytes());

    let mut s = Sniffer::new(one_hour());
    // Everything but the last byte of the data chunk header: not yet.
    assert_eq!(
        s.push(&header[..header.len() - 1]),
        Ok(Progress::Identified(Format::Wav))
    );
    // The header's last byte: refused before any sample arrived.
    assert_eq!(
        s.push(&header[header.len() - 1..]),
        Err(Rejection::TooLong { seconds: 3601 })
    );
    // Exactly an hour is fine.
    let ok = wav(8000, 16000 * 3600);
    assert!(check(&one_hour(), &ok).is_ok());
}

#[test]
fn too_long_for_every_audio_format() {
    let l = one_hour();
    let long = 3601;
    assert!(matches!(
        check(&l, &flac(8000, 8000 * long)),
        Err(Rejection::TooLong { .. })
    ));
    assert!(matches!(
        check(&l, &ogg(&vorbis_ident(8000), 8000 * long)),
        Err(Rejection::TooLong { .. })
    ));
    assert!(matches!(
        check(&l, &m4a(8000, long as u32, false)),
        Err(Rejection::TooLong { .. })
    ));
    assert!(matches!(
        check(&l, &m4a(8000, long as u32, true)),
        Err(Rejection::TooLong { .. })
    ));
    let frames = (long * 44100 / 1152 + 1) as u32;
    assert!(matches!(
        check(&l, &mp3_xing(frames, 3)),
        Err(Rejection::TooLong { .. })
    ));
    // MP3 without Xing: estimated at the end from size and bitrate.
    let short = Limits {
        max_duration_secs: 1,
        ..Limits::default()
    };
    assert!(matches!(
        check(&short, &mp3_frames(MP3_HDR, 60)),
        Err(Rejection::TooLong { seconds: 2 })
    ));
}

// ---- size ----

#[test]
fn size_limit_rejects_at_the_byte_that_exceeds_it() {
    let body = wav(16000, 10_000);
    let limits = Limits {
        max_bytes: body.len() as u64,
        ..Limits::default()
    };
    assert!(check(&limits, &body).is_ok());
    let mut s = Sniffer::new(limits.clone());
    s.push(&body).unwrap();
    assert_eq!(
        s.push(&[0]),
        Err(Rejection::TooLarge {
            max_bytes: body.len() as u64
        })
    );
    // The rejection sticks.
    assert!(s.push(b"").is_err());
    assert!(s.finish().is_err());

    let bigger = cat(&[&body, &[0]]);
    assert_eq!(
        check(&limits, &bigger),
        Err(Rejection::TooLarge {
            max_bytes: body.len() as u64
        })
    );
}

#[test]
fn an_earlier_header_error_wins_over_the_size_limit() {
    let body = cat(&[&riff(&[chunk(b"data", &[0; 10])]), &[0; 100]]);
    let limits = Limits {
        max_bytes: 40,
        ..Limits::default()
    };
    assert_eq!(
        check(&limits, &body),
        Err(malformed("data chunk before fmt chunk"))
    );
}

// ---- allow list and progress ----

#[test]
fn formats_outside_the_allow_list_are_unsupported() {
    let docs = Limits::documents();
    assert_eq!(
        check(&docs, &wav(16000, 100)),
        Err(Rejection::UnsupportedType {
            format: Some(Format::Wav)
        })
    );
    let audio = Limits::audio();
    assert_eq!(
        check(&audio, &ooxml(b"word/document.xml")),
        Err(Rejection::UnsupportedType {
            format: Some(Format::Docx)
        })
    );
    assert_eq!(
        check(&audio, b"just some text"),
        Err(Rejection::UnsupportedType {
            format: Some(Format::Text)
        })
    );
    let only_opus = Limits {
        allowed: FormatSet::from(Format::OggOpus),
        ..Limits::default()
    };
    assert!(check(&only_opus, &ogg(&opus_head(16000), 48000)).is_ok());
    assert_eq!(
        check(&only_opus, &ogg(&vorbis_ident(16000), 16000)),
        Err(Rejection::UnsupportedType {
            format: Some(Format::OggVorbis)
        })
    );
}

#[test]
fn progress_reports_the_format_once_known() {
    let body = wav(16000, 100);
    let mut s = Sniffer::new(Limits::default());
    assert_eq!(s.push(&body[..8]), Ok(Progress::Sniffing));
    assert_eq!(s.push(&body[8..12]), Ok(Progress::Identified(Format::Wav)));
    assert_eq!(s.bytes(), 12);

    // MP3 is identified only once the second frame header confirms it.
    let mp3 = mp3_frames(MP3_HDR, 2);
    let mut s = Sniffer::new(Limits::default());
    assert_eq!(s.push(&mp3[..417]), Ok(Progress::Sniffing));
    assert_eq!(s.push(&mp3[417..]), Ok(Progress::Identified(Format::Mp3)));
}

// ---- lying and truncated headers (the seeds hold more) ----

#[test]
fn lying_headers() {
    let mut past_end = wav(16000, 100);
    past_end[40..44].copy_from_slice(&1000u32.to_le_bytes());
    past_end[4..8].copy_from_slice(&2000u32.to_le_bytes());
    assert_eq!(
        reject(&past_end),
        malformed("data chunk extends past end of file")
    );

    let mut bad_rate = wav(16000, 100);
    bad_rate[28..32].copy_from_slice(&16001u32.to_le_bytes());
    assert_eq!(
        reject(&bad_rate),
        malformed("byte rate inconsistent with sample rate and block align")
    );

    let mut id3_past_end = id3(10);
    id3_past_end[6..10].copy_from_slice(&[0, 0, 0x7F, 0x7F]);
    assert_eq!(
        reject(&id3_past_end),
        malformed("ID3 tag extends past end of file")
    );

    let mut flac0 = flac(44100, 100);
    flac0[18..21].copy_from_slice(&[0, 0, 0x0F]); // zero the 20-bit rate
    assert_eq!(reject(&flac0), malformed("FLAC sample rate is 0"));

    let mut ogg_bad = ogg(&vorbis_ident(44100), 44100);
    let second = ogg_page(&vorbis_ident(44100), 0, 0, 2).len();
    ogg_bad[second] = b'X';
    assert_eq!(reject(&ogg_bad), malformed("bad Ogg capture pattern"));

    let mut box_small = m4a(44100, 1, false);
    box_small[24..28].copy_from_slice(&4u32.to_be_bytes());
    assert_eq!(
        reject(&box_small),
        malformed("box size smaller than its header")
    );

    let mut zip_name = local(b"a", b"");
    zip_name[26..28].copy_from_slice(&u16::MAX.to_le_bytes());
    zip_name.resize(70_000, b'a');
    assert_eq!(
        reject(&zip_name),
        malformed("header exceeds the 64 KiB buffer")
    );
}

#[test]
fn foreign_binaries_are_unsupported() {
    for body in [
        &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01"[..],
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
        b"GIF89a\x01\0\x01\0\0\0\0",
        b"MZ\x90\0\x03\0\0\0",
    ] {
        assert_eq!(reject(body), Rejection::UnsupportedType { format: None });
    }
}

#[test]
fn statuses_and_messages() {
    let cases = [
        (Rejection::TooLarge { max_bytes: 1 }, 413),
        (Rejection::TooLong { seconds: 1 }, 413),
        (Rejection::TooManyChars { max_chars: 1 }, 413),
        (Rejection::UnsupportedType { format: None }, 415),
        (malformed("x"), 422),
        (Rejection::SampleRate { hz: 1 }, 422),
    ];
    for (r, status) in cases {
        assert_eq!(r.status(), status, "{r:?}");
        assert!(!r.to_string().is_empty());
    }
}

#[test]
fn memory_stays_bounded_on_a_header_that_never_ends() {
    // An ID3-less "text" of 1 MiB without newline is streamed, not kept.
    let big = vec![b'a'; 1 << 20];
    assert_eq!(accept(&big).chars, Some(1 << 20));
    // A ZIP name that needs more than the buffer is refused, not grown.
    let mut s = Sniffer::new(Limits::default());
    let mut head = local(b"a", b"");
    head[26..28].copy_from_slice(&u16::MAX.to_le_bytes());
    let r = s
        .push(&head)
        .and_then(|_| s.push(&vec![b'a'; HEADER_BUFFER]));
    assert_eq!(r, Err(malformed("header exceeds the 64 KiB buffer")));
}
