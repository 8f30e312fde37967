//! Builders for tiny but valid media files, written byte by byte from the
//! format specifications (the same shapes as `make_seeds.py`).
#![allow(dead_code)]

use amanah_media::fuzz_checks::sniff_chunked;
use amanah_media::{sniff, Limits, Rejection, Sniffer, Verdict};

pub fn le16(v: u16) -> [u8; 2] {
    v.to_le_bytes()
}
pub fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---- WAV ----

pub fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = cat(&[id, &le32(body.len() as u32), body]);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

pub fn fmt_body(rate: u32, channels: u16, bits: u16) -> Vec<u8> {
    let align = channels * bits.div_ceil(8);
    cat(&[
        &le16(1),
        &le16(channels),
        &le32(rate),
        &le32(rate * u32::from(align)),
        &le16(align),
        &le16(bits),
    ])
}

pub fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body = cat(&[b"WAVE", &chunks.concat()]);
    cat(&[b"RIFF", &le32(body.len() as u32), &body])
}

/// Mono 16-bit PCM: `secs` seconds of silence.
pub fn wav(rate: u32, data_len: usize) -> Vec<u8> {
    riff(&[
        chunk(b"fmt ", &fmt_body(rate, 1, 16)),
        chunk(b"data", &vec![0; data_len]),
    ])
}

// ---- MP3 ----

/// MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo: 417-byte frames.
pub const MP3_HDR: [u8; 4] = [0xFF, 0xFB, 0x90, 0x64];

pub fn mp3_frame_len(hdr: [u8; 4]) -> usize {
    // Only the headers used in these tests.
    match hdr {
        MP3_HDR => 417,
        // MPEG-1, 128 kbit/s, 48 kHz: 144 * 128000 / 48000 = 384.
        [0xFF, 0xFB, 0x94, _] => 384,
        // MPEG-2.5, 8 kbit/s, 8 kHz: 72 * 8000 / 8000 = 72.
        [0xFF, 0xE3, 0x18, _] => 72,
        _ => panic!("unknown test header"),
    }
}

pub fn mp3_frames(hdr: [u8; 4], n: usize) -> Vec<u8> {
    let len = mp3_frame_len(hdr);
    let mut frame = hdr.to_vec();
    frame.resize(len, 0);
    frame.repeat(n)
}

pub fn id3(size: u32) -> Vec<u8> {
    let s = [
        ((size >> 21) & 0x7F) as u8,
        ((size >> 14) & 0x7F) as u8,
        ((size >> 7) & 0x7F) as u8,
        (size & 0x7F) as u8,
    ];
    cat(&[b"ID3\x04\x00\x00", &s, &vec![0; size as usize]])
}

/// Frames with a Xing header in the first one announcing `frames`.
pub fn mp3_xing(frames: u32, n: usize) -> Vec<u8> {
    let mut out = mp3_frames(MP3_HDR, n);
    out[36..40].copy_from_slice(b"Xing");
    out[40..44].copy_from_slice(&1u32.to_be_bytes());
    out[44..48].copy_from_slice(&frames.to_be_bytes());
    out
}

// ---- FLAC ----

pub fn streaminfo(rate: u32, channels: u8, total: u64) -> Vec<u8> {
    let packed: u64 = (u64::from(rate) << 44)
        | (u64::from(channels - 1) << 41)
        | (15u64 << 36)
        | (total & 0xF_FFFF_FFFF);
    cat(&[
        &4096u16.to_be_bytes(),
        &4096u16.to_be_bytes(),
        &[0; 6],
        &packed.to_be_bytes(),
        &[0; 16],
    ])
}

pub fn flac(rate: u32, total: u64) -> Vec<u8> {
    let info = streaminfo(rate, 2, total);
    let padding = vec![0u8; 64];
    cat(&[
        b"fLaC",
        &[0x00, 0, 0, 34],
        &info,
        &[0x81, 0, 0, 64],
        &padding,
        &[0xFF, 0xF8, 0x69, 0x08],
        &[0; 40],
    ])
}

// ---- Ogg ----

pub fn ogg_page(body: &[u8], granule: u64, seq: u32, flags: u8) -> Vec<u8> {
    let mut lacing = vec![255u8; body.len() / 255];
    lacing.push((body.len() % 255) as u8);
    cat(&[
        b"OggS",
        &[0, flags],
        &granule.to_le_bytes(),
        &le32(1),
        &le32(seq),
        &[0; 4],
        &[lacing.len() as u8],
        &lacing,
        body,
    ])
}

pub fn vorbis_ident(rate: u32) -> Vec<u8> {
    cat(&[
        b"\x01vorbis",
        &le32(0),
        &[2],
        &le32(rate),
        &le32(0),
        &le32(128_000),
        &le32(0),
        &[0xB8, 1],
    ])
}

pub fn opus_head(input_rate: u32) -> Vec<u8> {
    cat(&[
        b"OpusHead",
        &[1, 2],
        &le16(312),
        &le32(input_rate),
        &[0, 0, 0],
    ])
}

pub fn ogg(ident: &[u8], granule_end: u64) -> Vec<u8> {
    cat(&[
        &ogg_page(ident, 0, 0, 2),
        &ogg_page(&[3; 60], 0, 1, 0),
        &ogg_page(&[0; 600], granule_end / 2, 2, 0),
        &ogg_page(&[0; 300], granule_end, 3, 4),
    ])
}

// ---- MP4 ----

pub fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    cat(&[&((8 + body.len()) as u32).to_be_bytes(), kind, body])
}

pub fn full_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    mp4_box(kind, &cat(&[&[0, 0, 0, 0], body]))
}

pub fn be32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

pub fn m4a(rate: u32, secs: u32, moov_last: bool) -> Vec<u8> {
    let ftyp = mp4_box(b"ftyp", b"M4A \0\0\0\0M4A isom");
    let mvhd = full_box(
        b"mvhd",
        &cat(&[&be32s(&[0, 0, 1000, secs * 1000]), &[0; 80]]),
    );
    let mdhd = full_box(
        b"mdhd",
        &cat(&[&be32s(&[0, 0, rate, secs * rate]), &[0; 4]]),
    );
    let hdlr = full_box(b"hdlr", &cat(&[&[0; 4], b"soun", &[0; 12], b"snd\0"]));
    let mp4a = mp4_box(
        b"mp4a",
        &cat(&[
            &[0; 6],
            &[0, 1],
            &[0; 8],
            &[0, 2, 0, 16, 0, 0, 0, 0],
            &(rate << 16).to_be_bytes(),
        ]),
    );
    let stsd = full_box(b"stsd", &cat(&[&be32s(&[1]), &mp4a]));
    let stbl = mp4_box(b"stbl", &cat(&[&stsd, &full_box(b"stsz", &[0; 200])]));
    let minf = mp4_box(b"minf", &stbl);
    let mdia = mp4_box(b"mdia", &cat(&[&mdhd, &hdlr, &minf]));
    let trak = mp4_box(b"trak", &mdia);
    let moov = mp4_box(b"moov", &cat(&[&mvhd, &trak]));
    let mdat = mp4_box(b"mdat", &[0; 5000]);
    if moov_last {
        cat(&[&ftyp, &mdat, &moov])
    } else {
        cat(&[&ftyp, &moov, &mdat])
    }
}

// ---- ZIP ----

pub fn local(name: &[u8], data: &[u8]) -> Vec<u8> {
    cat(&[
        b"PK\x03\x04",
        &le16(20),
        &le16(0),
        &le16(0),
        &[0; 4],
        &le32(0),
        &le32(data.len() as u32),
        &le32(data.len() as u32),
        &le16(name.len() as u16),
        &le16(0),
        name,
        data,
    ])
}

pub const CENTRAL: &[u8] = b"PK\x01\x02";

pub fn ooxml(part: &[u8]) -> Vec<u8> {
    cat(&[
        &local(b"[Content_Types].xml", b"<Types/>"),
        &local(b"_rels/.rels", b"<Relationships/>"),
        &local(part, b"<x/>"),
        CENTRAL,
        &[0; 40],
    ])
}

pub fn odf(kind: &str) -> Vec<u8> {
    let mime = format!("application/vnd.oasis.opendocument.{kind}");
    cat(&[
        &local(b"mimetype", mime.as_bytes()),
        &local(b"content.xml", b"<office:document-content/>"),
        CENTRAL,
    ])
}

pub fn ole2() -> Vec<u8> {
    let mut out = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    out.resize(0x18, 0);
    out.extend_from_slice(&cat(&[&le16(0x3E), &le16(3), &le16(0xFFFE), &le16(9)]));
    out.resize(1536, 0);
    out
}

// ---- feeding ----

/// A small deterministic generator, so failures reproduce.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

pub fn random_chunks(limits: &Limits, body: &[u8], seed: u64) -> Result<Verdict, Rejection> {
    let mut rng = Lcg(seed);
    let mut s = Sniffer::new(limits.clone());
    let mut rest = body;
    while !rest.is_empty() {
        let n = (rng.next(2000) + 1).min(rest.len());
        let (now, later) = rest.split_at(n);
        s.push(now)?;
        rest = later;
    }
    s.finish()
}

/// The result fed whole, asserting it is the same byte by byte and in
/// random chunk sizes.
pub fn check(limits: &Limits, body: &[u8]) -> Result<Verdict, Rejection> {
    let whole = sniff(limits.clone(), body);
    assert_eq!(
        whole,
        sniff_chunked(limits.clone(), body, 1),
        "byte by byte"
    );
    for seed in 1..=4 {
        assert_eq!(
            whole,
            random_chunks(limits, body, seed),
            "random chunks {seed}"
        );
    }
    whole
}

pub fn accept(body: &[u8]) -> Verdict {
    check(&Limits::default(), body).unwrap_or_else(|e| panic!("rejected: {e:?}"))
}

pub fn reject(body: &[u8]) -> Rejection {
    check(&Limits::default(), body).expect_err("accepted")
}
