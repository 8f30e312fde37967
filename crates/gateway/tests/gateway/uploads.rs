//! Upload validation on a route: audio checked by content while it
//! streams, with clear 413/415/422 answers, and nothing refused reaching
//! the model whole.

use bytes::Bytes;
use http::{Request, StatusCode};

use super::support::*;
use amanah_gateway::body::full;

/// A PCM WAV file: `secs` seconds of silence at `rate` Hz, mono, 16-bit.
/// `declared_secs` lets the header lie about the length.
fn wav(rate: u32, secs: u32, declared_secs: u32) -> Vec<u8> {
    let block = 2u16;
    let byte_rate = rate * u32::from(block);
    let data_len = byte_rate * secs;
    let declared = byte_rate * declared_secs;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + declared).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&byte_rate.to_le_bytes());
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&declared.to_le_bytes());
    out.resize(out.len() + data_len as usize, 0);
    out
}

fn upload(h: &Harness, key: &str, body: Vec<u8>) -> Request<amanah_gateway::body::Body> {
    Request::post(h.url("/v1/audio/transcriptions"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "audio/wav")
        .body(full(Bytes::from(body)))
        .unwrap()
}

#[tokio::test]
async fn audio_uploads_are_checked_by_content() {
    let mut h = Harness::with(Setup {
        route: "upload = \"audio\"\nupload_max_duration_secs = 10\n".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let c = client();

    // 3 s at 16 kHz: forwarded whole.
    let good = wav(16_000, 3, 3);
    let (status, _, body) = send(&c, upload(&h, &key, good.clone())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h.last_seen().body.len(), good.len());
    let seen = h.seen_count();

    // 96 kHz: outside 8000..=48000.
    let (status, _, body) = send(&c, upload(&h, &key, wav(96_000, 1, 1))).await;
    assert_error(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        &body,
        "invalid_upload",
    );
    assert!(json(&body)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("96000"));

    // Twenty seconds declared: refused at the header.
    let (status, _, body) = send(&c, upload(&h, &key, wav(8_000, 1, 20))).await;
    assert_error(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        &body,
        "payload_too_large",
    );

    // A PNG named audio: the content decides.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.resize(200, 7);
    let (status, _, body) = send(&c, upload(&h, &key, png)).await;
    assert_error(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &body,
        "unsupported_media_type",
    );

    // The header says 3 s, the file ends after 1 s: refused at the end.
    let (status, _, body) = send(&c, upload(&h, &key, wav(16_000, 1, 3))).await;
    assert_error(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        &body,
        "invalid_upload",
    );

    // An empty body is no audio.
    let (status, _, body) = send(&c, upload(&h, &key, Vec::new())).await;
    assert_error(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        &body,
        "invalid_upload",
    );

    // None of the refused uploads reached the model whole.
    for s in h.upstream.seen.lock().unwrap()[seen..].iter() {
        assert!(s.body.len() < 32_000, "a refused upload arrived whole");
    }
    h.finish().await;
}

#[tokio::test]
async fn an_upload_route_streams_large_audio_within_its_limits() {
    let mut h = Harness::with(Setup {
        route: "upload = \"audio\"\nmax_body_bytes = 4000000\n".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let c = client();
    // 2 MB of 44.1 kHz audio in 64 KiB chunks.
    let file = wav(44_100, 22, 22);
    let chunks: Vec<Bytes> = file.chunks(64 * 1024).map(Bytes::copy_from_slice).collect();
    let body = http_body_util::StreamBody::new(futures_util_stream(chunks));
    let req = Request::post(h.url("/v1/audio/transcriptions"))
        .header("authorization", format!("Bearer {key}"))
        .body(http_body_util::BodyExt::boxed(body))
        .unwrap();
    let (status, _, resp) = send(&c, req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(h.last_seen().body.len(), file.len());
    // Over max_body_bytes: 413 while streaming.
    let big = wav(48_000, 45, 45);
    let (status, _, body) = send(&c, upload(&h, &key, big)).await;
    assert_error(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        &body,
        "payload_too_large",
    );
    h.finish().await;
}

/// A stream of data frames from `chunks`.
fn futures_util_stream(
    chunks: Vec<Bytes>,
) -> impl futures_core::Stream<Item = Result<http_body::Frame<Bytes>, amanah_gateway::body::BoxError>>
{
    struct Chunks(std::collections::VecDeque<Bytes>);
    impl futures_core::Stream for Chunks {
        type Item = Result<http_body::Frame<Bytes>, amanah_gateway::body::BoxError>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
        }
    }
    Chunks(chunks.into())
}

/// OpenAI-style transcription uploads are `multipart/form-data`: the file
/// part is what is checked, and the whole form reaches the model.
#[tokio::test]
async fn multipart_uploads_have_their_file_part_checked() {
    let mut h = Harness::with(Setup {
        route: "upload = \"audio\"\n".into(),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let c = client();
    let form = |file: &[u8]| {
        let mut b = Vec::new();
        b.extend_from_slice(
            b"--XbOuNd\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n",
        );
        b.extend_from_slice(b"--XbOuNd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"call.wav\"\r\nContent-Type: audio/wav\r\n\r\n");
        b.extend_from_slice(file);
        b.extend_from_slice(b"\r\n--XbOuNd--\r\n");
        b
    };
    let send_form = |body: Vec<u8>| {
        Request::post(h.url("/v1/audio/transcriptions"))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "multipart/form-data; boundary=XbOuNd")
            .body(full(Bytes::from(body)))
            .unwrap()
    };
    let good = form(&wav(16_000, 2, 2));
    let (status, _, body) = send(&c, send_form(good.clone())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h.last_seen().body, good);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(400, 3);
    let (status, _, body) = send(&c, send_form(form(&png))).await;
    assert_error(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &body,
        "unsupported_media_type",
    );
    let (status, _, body) = send(&c, send_form(form(&wav(96_000, 1, 1)))).await;
    assert_error(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        &body,
        "invalid_upload",
    );
    // A form without a file part is no upload.
    let no_file = b"--XbOuNd\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--XbOuNd--\r\n".to_vec();
    let (status, _, body) = send(&c, send_form(no_file)).await;
    assert_error(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        &body,
        "invalid_upload",
    );
    h.finish().await;
}
