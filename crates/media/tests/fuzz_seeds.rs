//! Replays the `media_sniff` fuzz target's seeds (`fuzz/seeds/media_sniff/`,
//! written by `make_seeds.py`, plus any `crash-*` reproducer) through the
//! target's own check on every test run: no panic, the same result whole,
//! in chunks and byte by byte, and, for the named seeds, the expected
//! verdict or rejection.

use std::path::Path;

use amanah_media::fuzz_checks::check_media_sniff;
use amanah_media::{Format, Rejection};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/media_sniff");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 60, "seed corpus missing: run make_seeds.py");
    out
}

/// What each malformed seed must be refused for: the header lie it holds.
const MALFORMED: &[(&str, &str)] = &[
    ("empty", "empty body"),
    ("flac_block_past_end", "file ends inside the FLAC metadata"),
    ("flac_no_frame_sync", "no FLAC frame after the metadata"),
    ("flac_rate_0", "FLAC sample rate is 0"),
    (
        "m4a_box_size_1_bogus_large",
        "box size smaller than its header",
    ),
    ("m4a_box_size_1_overflow", "size field overflows"),
    (
        "m4a_box_smaller_than_header",
        "box size smaller than its header",
    ),
    ("m4a_child_past_parent", "box extends past its parent"),
    ("m4a_no_moov", "no moov box"),
    ("m4a_size_0_inside_moov", "box size 0 inside another box"),
    ("m4a_truncated_mdat", "file ends inside a box"),
    (
        "mp3_bad_bitrate_after_id3",
        "no MPEG audio frame after the ID3 tag",
    ),
    ("mp3_id3_not_syncsafe", "ID3v2 size is not syncsafe"),
    ("mp3_id3_past_end", "ID3 tag extends past end of file"),
    ("ogg_bad_capture_second_page", "bad Ogg capture pattern"),
    ("ogg_page_truncated", "file ends inside an Ogg page"),
    ("ogg_vorbis_rate_0", "Vorbis sample rate is 0"),
    ("ole2_bad_sector_shift", "invalid OLE2 header"),
    ("pdf_bad_version", "unknown PDF version"),
    ("text_invalid_utf8_after_prefix", "invalid UTF-8 in text"),
    ("text_nul_after_prefix", "NUL byte in text"),
    ("wav_byte_rate_0", "fmt chunk byte rate is 0"),
    (
        "wav_byte_rate_inconsistent",
        "byte rate inconsistent with sample rate and block align",
    ),
    ("wav_data_before_fmt", "data chunk before fmt chunk"),
    ("wav_data_past_end", "data chunk extends past end of file"),
    ("wav_fmt_size_0", "fmt chunk too short"),
    ("wav_fmt_size_huge", "fmt chunk too large"),
    ("wav_truncated_header", "file ends before the fmt chunk"),
    ("zip_entry_truncated", "file ends inside a ZIP entry"),
    ("zip_name_past_buffer", "header exceeds the 64 KiB buffer"),
];

#[test]
fn every_seed_replays_the_same_in_any_chunking() {
    for (name, data) in seeds() {
        // Panics (with the seed's name) on a chunking difference.
        let result = std::panic::catch_unwind(|| check_media_sniff(&data));
        assert!(result.is_ok(), "{name} panicked");
    }
}

#[test]
fn named_seeds_give_their_expected_result() {
    let mut checked = 0;
    for (name, data) in seeds() {
        if name.starts_with("crash-") {
            continue;
        }
        let (kind, what) = name.split_once("__").expect("seed name is <kind>__<what>");
        let got = check_media_sniff(&data);
        match kind {
            "ok" => {
                let v = got.unwrap_or_else(|e| panic!("{name}: {e:?}"));
                if v.format.is_audio() {
                    assert!(v.sample_rate.is_some(), "{name}");
                    assert!(v.duration_secs.is_some(), "{name}");
                }
            }
            "malformed" => {
                let reason = MALFORMED
                    .iter()
                    .find(|(n, _)| *n == what)
                    .unwrap_or_else(|| panic!("{name}: add it to MALFORMED"))
                    .1;
                assert_eq!(got, Err(Rejection::Malformed { reason }), "{name}");
            }
            "unsupported" => assert!(
                matches!(got, Err(Rejection::UnsupportedType { format: None })),
                "{name}: {got:?}"
            ),
            "too_long" => assert!(
                matches!(got, Err(Rejection::TooLong { .. })),
                "{name}: {got:?}"
            ),
            "too_large" => assert!(
                matches!(got, Err(Rejection::TooLarge { max_bytes: 2048 })),
                "{name}: {got:?}"
            ),
            "too_many_chars" => assert_eq!(
                got,
                Err(Rejection::TooManyChars { max_chars: 256 }),
                "{name}"
            ),
            "sample_rate" => assert!(
                matches!(got, Err(Rejection::SampleRate { .. })),
                "{name}: {got:?}"
            ),
            _ => panic!("{name}: unknown seed kind {kind}"),
        }
        checked += 1;
    }
    assert!(checked >= 60);
}

#[test]
fn accepted_seeds_report_their_format() {
    let expect = [
        ("ok__wav_pcm16", Format::Wav),
        ("ok__wav_rf64", Format::Wav),
        ("ok__mp3_id3_xing", Format::Mp3),
        ("ok__flac", Format::Flac),
        ("ok__ogg_vorbis", Format::OggVorbis),
        ("ok__ogg_opus", Format::OggOpus),
        ("ok__m4a_moov_after_mdat", Format::M4a),
        ("ok__pdf_after_junk", Format::Pdf),
        ("ok__docx", Format::Docx),
        ("ok__xlsx_parts_first", Format::Xlsx),
        ("ok__odt", Format::Odt),
        ("ok__ole2", Format::Ole2),
        ("ok__rtf", Format::Rtf),
        ("ok__text_utf8", Format::Text),
    ];
    let seeds = seeds();
    for (name, format) in expect {
        let (_, data) = seeds.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(check_media_sniff(data).unwrap().format, format, "{name}");
    }
}

/// Every multipart seed replays without a panic and reads the same in any
/// chunking (`check_multipart_sniff` asserts it); the accepted ones are
/// the `ok_` seeds.
#[test]
fn multipart_seeds_replay() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/media_multipart");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        let result = amanah_media::fuzz_checks::check_multipart_sniff(&data);
        assert_eq!(
            result.is_ok(),
            name.starts_with("ok_"),
            "{name}: {result:?}"
        );
        seen += 1;
    }
    assert!(seen >= 10, "seeds missing in {}", dir.display());
}
