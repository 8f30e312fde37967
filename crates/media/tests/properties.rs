//! Property tests: no input panics, and the result does not depend on how
//! the body is cut into chunks.

mod common;

use amanah_media::fuzz_checks::{check_media_sniff, small_limits, sniff_chunked};
use amanah_media::{sniff, Limits, Sniffer};
use common::*;
use proptest::prelude::*;

fn valid_files() -> Vec<Vec<u8>> {
    vec![
        wav(16000, 3000),
        mp3_frames(MP3_HDR, 4),
        cat(&[&id3(300), &mp3_xing(100, 3)]),
        flac(44100, 44100),
        ogg(&vorbis_ident(44100), 44100),
        ogg(&opus_head(16000), 48000),
        m4a(44100, 2, false),
        m4a(44100, 2, true),
        ooxml(b"word/document.xml"),
        odf("text"),
        ole2(),
        b"%PDF-1.7\n%%EOF\n".to_vec(),
        "tëxt ✓\n".repeat(300).into_bytes(),
    ]
}

fn feed(
    limits: &Limits,
    body: &[u8],
    cuts: &[usize],
) -> Result<amanah_media::Verdict, amanah_media::Rejection> {
    let mut s = Sniffer::new(limits.clone());
    let mut rest = body;
    for &c in cuts {
        if rest.is_empty() {
            break;
        }
        let n = (c % rest.len()) + 1;
        let (now, later) = rest.split_at(n);
        s.push(now)?;
        rest = later;
    }
    s.push(rest)?;
    s.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_any_chunking(body in proptest::collection::vec(any::<u8>(), 0..3000),
                                    cuts in proptest::collection::vec(any::<usize>(), 0..40)) {
        let limits = Limits::default();
        prop_assert_eq!(sniff(limits.clone(), &body), feed(&limits, &body, &cuts));
    }

    #[test]
    fn mutated_valid_files_any_chunking(which in any::<prop::sample::Index>(),
                                        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
                                        truncate in proptest::option::of(any::<prop::sample::Index>()),
                                        cuts in proptest::collection::vec(any::<usize>(), 0..40),
                                        small in any::<bool>()) {
        let files = valid_files();
        let mut body = which.get(&files).clone();
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        if let Some(t) = truncate {
            body.truncate(t.index(body.len() + 1));
        }
        let limits = if small { small_limits() } else { Limits::default() };
        let whole = sniff(limits.clone(), &body);
        prop_assert_eq!(&whole, &feed(&limits, &body, &cuts));
        prop_assert_eq!(&whole, &sniff_chunked(limits, &body, 1));
    }

    #[test]
    fn fuzz_check_holds(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = check_media_sniff(&data);
    }
}

#[test]
fn unmodified_files_are_accepted() {
    for f in valid_files() {
        assert!(check(&Limits::default(), &f).is_ok());
    }
}
