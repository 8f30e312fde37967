#!/usr/bin/env python3
"""Writes the seed corpus of the `media_sniff` fuzz target.

Run by hand from anywhere: `python3 crates/media/tests/make_seeds.py`.
Every file is the fuzz input format: one selector byte (chunk size and
limits, see `amanah_media::fuzz_checks::check_media_sniff`), then the body.
The name says what the sniffer must answer; `tests/fuzz_seeds.rs` holds the
exact expectation for each file and fails on a seed it does not know.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "..", "..", "fuzz", "seeds", "media_sniff")


def chunk(cid, body):
    pad = b"\0" if len(body) % 2 else b""
    return cid + struct.pack("<I", len(body)) + body + pad


def fmt_body(tag=1, ch=1, rate=16000, bits=16, byte_rate=None, align=None):
    align = ch * ((bits + 7) // 8) if align is None else align
    byte_rate = rate * align if byte_rate is None else byte_rate
    return struct.pack("<HHIIHH", tag, ch, rate, byte_rate, align, bits)


def riff(chunks, size=None, magic=b"RIFF"):
    body = b"WAVE" + b"".join(chunks)
    return magic + struct.pack("<I", len(body) if size is None else size) + body


def wav(rate=16000, data_len=3200, **kw):
    return riff([chunk(b"fmt ", fmt_body(rate=rate, **kw)), chunk(b"data", b"\0" * data_len)])


def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def id3(size, content=None):
    content = b"\0" * size if content is None else content
    return b"ID3\x04\x00\x00" + syncsafe(size) + content


# MPEG-1 Layer III, 128 kbit/s, 44100 Hz, joint stereo: 417-byte frames.
MP3_HDR = bytes([0xFF, 0xFB, 0x90, 0x64])
MP3_LEN = 144 * 128000 // 44100


def mp3_frames(n, hdr=MP3_HDR, length=MP3_LEN):
    return (hdr + b"\0" * (length - 4)) * n


def mp3_xing(frames, total=4):
    body = bytearray(mp3_frames(total))
    body[36:48] = b"Xing" + struct.pack(">II", 1, frames)
    return bytes(body)


def streaminfo(rate=44100, ch=2, bits=16, total=44100, min_block=4096, max_block=4096):
    packed = (rate << 44) | ((ch - 1) << 41) | ((bits - 1) << 36) | total
    return struct.pack(">HH", min_block, max_block) + b"\0" * 6 + struct.pack(">Q", packed) + b"\0" * 16


def flac(info=None, blocks=(), frames=b"\xFF\xF8\x69\x08" + b"\0" * 20):
    info = streaminfo() if info is None else info
    out = b"fLaC"
    all_blocks = [(0, info)] + list(blocks)
    for i, (kind, body) in enumerate(all_blocks):
        last = 0x80 if i == len(all_blocks) - 1 else 0
        out += bytes([last | kind]) + struct.pack(">I", len(body))[1:] + body
    return out + frames


def ogg_page(body, granule=0, serial=1, seq=0, flags=0, capture=b"OggS"):
    lacing = [255] * (len(body) // 255) + [len(body) % 255]
    return (capture + bytes([0, flags]) + struct.pack("<qII", granule, serial, seq)
            + b"\0\0\0\0" + bytes([len(lacing)]) + bytes(lacing) + body)


def vorbis_ident(rate=44100, ch=2):
    return b"\x01vorbis" + struct.pack("<IBIiiiBB", 0, ch, rate, 0, 128000, 0, 0xB8, 1)


def opus_head(rate=48000, ch=2, pre_skip=312):
    return b"OpusHead" + struct.pack("<BBHIhB", 1, ch, pre_skip, rate, 0, 0)


def ogg(ident, granule_rate, secs=2):
    return (ogg_page(ident, flags=2)
            + ogg_page(b"\x03vorbis" + b"\0" * 40, seq=1)
            + ogg_page(b"\0" * 300, granule=granule_rate * secs, seq=2, flags=4))


def box(kind, body):
    return struct.pack(">I", 8 + len(body)) + kind + body


def full(kind, body, version=0):
    return box(kind, bytes([version, 0, 0, 0]) + body)


def m4a(rate=44100, secs=3, moov_last=False, brand=b"M4A "):
    ftyp = box(b"ftyp", brand + b"\0\0\0\0" + brand + b"isom")
    mvhd = full(b"mvhd", struct.pack(">IIII", 0, 0, 1000, secs * 1000) + b"\0" * 80)
    mdhd = full(b"mdhd", struct.pack(">IIII", 0, 0, rate, secs * rate) + b"\0" * 4)
    hdlr = full(b"hdlr", b"\0\0\0\0soun" + b"\0" * 12 + b"snd\0")
    mp4a = box(b"mp4a", b"\0" * 6 + b"\0\x01" + b"\0" * 8 + struct.pack(">HHHHI", 2, 16, 0, 0, rate << 16))
    stsd = full(b"stsd", struct.pack(">I", 1) + mp4a)
    trak = box(b"trak", box(b"mdia", mdhd + hdlr + box(b"minf", box(b"stbl", stsd))))
    moov = box(b"moov", mvhd + trak)
    mdat = box(b"mdat", b"\0" * 500)
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def local(name, data=b"", method=0, flags=0, csize=None, name_len=None):
    csize = len(data) if csize is None else csize
    name_len = len(name) if name_len is None else name_len
    return (b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, flags, method, 0, 0, 0, csize, len(data),
                                        name_len, 0) + name + data)


CENTRAL = b"PK\x01\x02" + b"\0" * 42 + b"PK\x05\x06" + b"\0" * 18


def docx(first=b"[Content_Types].xml", second=b"word/document.xml"):
    return local(first, b"<Types/>") + local(b"_rels/.rels", b"<r/>") + local(second, b"<w/>") + CENTRAL


def odf(kind):
    return local(b"mimetype", b"application/vnd.oasis.opendocument." + kind) + local(b"content.xml", b"<x/>") + CENTRAL


def ole2(major=3, shift=9, order=0xFFFE):
    head = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16 + struct.pack("<HHHH", 0x3E, major, order, shift)
    return head + b"\0" * (512 - len(head)) + b"\0" * 512


def junk(n, seed=7):
    out, x = bytearray(), seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append((x >> 16) & 0xFF)
    return bytes(out)


LONG_WAV_SECS = 5 * 3600  # past the default 4 h

SEEDS = {
    # Accepted (selector 0: default limits, one byte at a time).
    "ok__wav_pcm16": wav(),
    "ok__wav_list_before_fmt": riff([chunk(b"LIST", b"INFOISFT" + struct.pack("<I", 4) + b"test"),
                                     chunk(b"fmt ", fmt_body()), chunk(b"data", b"\0" * 320)]),
    "ok__wav_rf64": (b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
                     + chunk(b"ds64", struct.pack("<QQQI", 4 + 36 + 24 + 8 + 320, 320, 160, 0))
                     + chunk(b"fmt ", fmt_body()) + b"data" + struct.pack("<I", 0xFFFFFFFF) + b"\0" * 320),
    "ok__mp3_raw": mp3_frames(4),
    "ok__mp3_id3_xing": id3(2000) + mp3_xing(1000),
    "ok__flac": flac(blocks=[(4, b"\x05\0\0\0hello\0\0\0\0"), (1, b"\0" * 100)]),
    "ok__ogg_vorbis": ogg(vorbis_ident(), 44100),
    "ok__ogg_opus": ogg(opus_head(16000), 48000),
    "ok__m4a_moov_first": m4a(),
    "ok__m4a_moov_after_mdat": m4a(moov_last=True),
    "ok__pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
    "ok__pdf_after_junk": b"\x00" * 100 + b"%PDF-1.4\n%%EOF\n",
    "ok__docx": docx(),
    "ok__xlsx_parts_first": docx(first=b"xl/workbook.xml", second=b"[Content_Types].xml"),
    "ok__odt": odf(b"text"),
    "ok__ole2": ole2(),
    "ok__rtf": b"{\\rtf1\\ansi Hello}",
    "ok__text_utf8": "Grüße, мир, 世界, 🎉\n".encode() * 100,
    # Lying or truncated headers.
    "malformed__wav_data_past_end": riff([chunk(b"fmt ", fmt_body()), b"data" + struct.pack("<I", 100000) + b"\0" * 100],
                                         size=4 + 24 + 8 + 100000),
    "malformed__wav_fmt_size_0": riff([b"fmt " + struct.pack("<I", 0), chunk(b"data", b"\0" * 16)]),
    "malformed__wav_fmt_size_huge": riff([b"fmt " + struct.pack("<I", 0x7FFFFFF0) + fmt_body()]),
    "malformed__wav_byte_rate_0": wav(byte_rate=0),
    "malformed__wav_byte_rate_inconsistent": wav(byte_rate=12345),
    "malformed__wav_data_before_fmt": riff([chunk(b"data", b"\0" * 16), chunk(b"fmt ", fmt_body())]),
    "malformed__wav_truncated_header": wav()[:30],
    "malformed__mp3_bad_bitrate_after_id3": id3(100) + mp3_frames(3, hdr=bytes([0xFF, 0xFB, 0xF0, 0x64])),
    "malformed__mp3_id3_past_end": id3(100000, b"\0" * 50),
    "malformed__mp3_id3_not_syncsafe": b"ID3\x04\x00\x00\x00\x00\x80\x00" + mp3_frames(2),
    "malformed__flac_rate_0": flac(info=streaminfo(rate=0)),
    "malformed__flac_no_frame_sync": flac(frames=b"\0" * 32),
    "malformed__flac_block_past_end": flac(blocks=[(1, b"\0" * 100)], frames=b"")[:-50],
    "malformed__ogg_bad_capture_second_page": ogg_page(vorbis_ident(), flags=2) + ogg_page(b"\0" * 30, seq=1, capture=b"OggX"),
    "malformed__ogg_page_truncated": ogg(vorbis_ident(), 44100)[:-100],
    "malformed__ogg_vorbis_rate_0": ogg(vorbis_ident(rate=0), 1),
    "malformed__m4a_box_size_1_bogus_large": m4a()[:24] + struct.pack(">I", 1) + b"moov" + struct.pack(">Q", 3),
    "malformed__m4a_box_size_1_overflow": m4a()[:24] + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 0xFFFFFFFFFFFFFFFF),
    "malformed__m4a_box_smaller_than_header": m4a()[:24] + struct.pack(">I", 4) + b"moov",
    "malformed__m4a_size_0_inside_moov": m4a()[:24] + box(b"moov", struct.pack(">I", 0) + b"trak" + b"\0" * 8),
    "malformed__m4a_child_past_parent": m4a()[:24] + box(b"moov", struct.pack(">I", 500) + b"trak" + b"\0" * 8),
    "malformed__m4a_truncated_mdat": m4a(moov_last=True)[:300],
    "malformed__m4a_no_moov": m4a()[:24] + box(b"mdat", b"\0" * 100),
    "malformed__zip_name_past_buffer": local(b"x" * 100, name_len=0xFFFF),
    "malformed__zip_entry_truncated": local(b"[Content_Types].xml", b"<Types/>", csize=5000),
    "malformed__pdf_bad_version": b"%PDF-9.9\n%%EOF\n",
    "malformed__ole2_bad_sector_shift": ole2(shift=10),
    "malformed__text_invalid_utf8_after_prefix": b"a" * 2000 + b"\xC0\xAF",
    "malformed__text_nul_after_prefix": b"a" * 2000 + b"\0",
    "malformed__empty": b"",
    # Unknown or refused formats.
    "unsupported__png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 40,
    "unsupported__elf": b"\x7fELF\x02\x01\x01\0" + b"\0" * 56,
    "unsupported__random_bytes": junk(3000),
    "unsupported__mp3_bad_bitrate_raw": mp3_frames(3, hdr=bytes([0xFF, 0xFB, 0xF0, 0x64])),
    "unsupported__mp3_single_frame": mp3_frames(1),
    "unsupported__pdf_header_after_1024": junk(1100) + b"%PDF-1.4\n",
    "unsupported__riff_avi": b"RIFF" + struct.pack("<I", 100) + b"AVI " + b"\0" * 100,
    "unsupported__plain_zip": local(b"hello.txt", b"hi") + CENTRAL,
    "unsupported__epub": local(b"mimetype", b"application/epub+zip") + CENTRAL,
    "unsupported__mp4_video_brand": m4a(brand=b"qt  ")[:24].replace(b"isom", b"qt  ") + b"\0" * 16,
    "unsupported__ogg_theora": ogg_page(b"\x80theora" + b"\0" * 40, flags=2),
    # Limits.
    "too_long__wav_header_says_5h": riff([chunk(b"fmt ", fmt_body(rate=8000, bits=8)),
                                          b"data" + struct.pack("<I", 8000 * LONG_WAV_SECS) + b"\0" * 64],
                                         size=4 + 24 + 8 + 8000 * LONG_WAV_SECS),
    "too_long__mp3_xing_5h": id3(10) + mp3_xing(LONG_WAV_SECS * 44100 // 1152),
    "too_long__flac_5h": flac(info=streaminfo(total=44100 * LONG_WAV_SECS)),
    "too_long__m4a_5h": m4a(secs=LONG_WAV_SECS),
    "sample_rate__wav_7999": wav(rate=7999),
    "sample_rate__wav_48001": wav(rate=48001),
    "sample_rate__flac_96000": flac(info=streaminfo(rate=96000)),
    "sample_rate__opus_96000": ogg(opus_head(96000), 48000),
}

# Seeds run with the small limits (selector bit 6) to reach the size limit.
SMALL = {
    "too_large__wav_small_limit": wav(data_len=4000),
    "too_long__ogg_small_limit": ogg(vorbis_ident(), 44100, secs=61),
    "too_many_chars__text_small_limit": b"x" * 300,
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, body in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b"\x00" + body)
    for name, body in SMALL.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b"\x47" + body)  # bit 6: small limits; chunks of 8
    print(f"wrote {len(SEEDS) + len(SMALL)} seeds to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
