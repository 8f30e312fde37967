//! Body types and the guard that streams a body while enforcing a size
//! limit and an idle timeout.
//!
//! Bodies are never collected whole on the proxy path: each frame is passed
//! on as it arrives, so an SSE response reaches the client chunk by chunk.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use tokio::time::{Instant, Sleep};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type of every response the gateway produces.
pub type Body = BoxBody<Bytes, BoxError>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// A body fed from a channel: each message is one data frame, sent as soon
/// as it is received. Used by the demo's mock upstream to stream SSE.
#[derive(Debug)]
pub struct ChannelBody(pub tokio::sync::mpsc::Receiver<Bytes>);

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0.poll_recv(cx).map(|m| m.map(|b| Ok(Frame::data(b))))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("body exceeds {0} bytes")]
    TooLarge(u64),
    #[error("no body data for {0:?}")]
    Idle(Duration),
}

/// Why a guarded body stopped early, readable after the body is gone.
#[derive(Debug, Default)]
pub struct Tripped {
    too_large: AtomicBool,
    idle: AtomicBool,
}

impl Tripped {
    pub fn too_large(&self) -> bool {
        self.too_large.load(Ordering::Relaxed)
    }
    pub fn idle(&self) -> bool {
        self.idle.load(Ordering::Relaxed)
    }
}

/// Streams `inner`, failing once more than `limit` bytes have passed or no
/// frame has arrived for `idle`.
pub struct GuardedBody<B> {
    inner: B,
    limit: Option<u64>,
    seen: u64,
    idle: Option<Duration>,
    /// Armed the first time the inner body has nothing to give: a body that
    /// arrives in one piece never costs a timer.
    sleep: Option<Pin<Box<Sleep>>>,
    tripped: Arc<Tripped>,
}

impl<B> std::fmt::Debug for GuardedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedBody")
            .field("limit", &self.limit)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl<B> GuardedBody<B> {
    pub fn new(inner: B, limit: Option<u64>, idle: Option<Duration>) -> Self {
        Self {
            inner,
            limit,
            seen: 0,
            idle,
            sleep: None,
            tripped: Arc::default(),
        }
    }

    /// Shared flags telling why the body failed, if it did.
    pub fn tripped(&self) -> Arc<Tripped> {
        Arc::clone(&self.tripped)
    }
}

impl<B> HttpBody for GuardedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen += data.len() as u64;
                    if let Some(limit) = this.limit {
                        if this.seen > limit {
                            this.tripped.too_large.store(true, Ordering::Relaxed);
                            return Poll::Ready(Some(Err(GuardError::TooLarge(limit).into())));
                        }
                    }
                }
                if let (Some(d), Some(sleep)) = (this.idle, &mut this.sleep) {
                    sleep.as_mut().reset(Instant::now() + d);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                if let Some(d) = this.idle {
                    let sleep = this
                        .sleep
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(d)));
                    if sleep.as_mut().poll(cx).is_ready() {
                        this.tripped.idle.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(GuardError::Idle(d).into())));
                    }
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why an upload was refused, shared between the body that found it and
/// the forwarder that must answer with it.
#[derive(Debug, Default)]
pub struct UploadCheck {
    rejection: std::sync::Mutex<Option<amanah_media::Rejection>>,
    identified: AtomicBool,
}

impl UploadCheck {
    /// Whether the sniffer has told the format (and so read its header).
    pub fn identified(&self) -> bool {
        self.identified.load(Ordering::Relaxed)
    }

    /// The rejection, if the body was refused.
    pub fn rejection(&self) -> Option<amanah_media::Rejection> {
        self.rejection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn refuse(&self, r: amanah_media::Rejection) {
        *self
            .rejection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
    }
}

/// Streams `inner` through an upload [`Sniffer`](amanah_media::Sniffer):
/// each chunk is checked before it is passed on, and the end of the body
/// is judged before its last frame is: the newest frame is always held
/// back until the next one (or the end) arrives. So however the client
/// frames its body (a known length, HTTP/2 with a late END_STREAM), the
/// upstream never has the whole upload before `finish` accepted it. A
/// refusal ends the body with an error and is kept in [`UploadCheck`].
pub struct SniffedBody<B> {
    inner: B,
    sniffer: Option<amanah_media::BodySniffer>,
    /// The newest frame, passed on when the next one or the end arrives.
    held: Option<Frame<Bytes>>,
    /// The end was judged: release `held`, then end.
    judged: bool,
    check: Arc<UploadCheck>,
}

impl<B> std::fmt::Debug for SniffedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SniffedBody").finish_non_exhaustive()
    }
}

impl<B> SniffedBody<B> {
    /// `content_type` is the request's: a `multipart/form-data` body has
    /// its file part checked.
    pub fn new(inner: B, limits: amanah_media::Limits, content_type: Option<&str>) -> Self {
        Self {
            inner,
            sniffer: Some(amanah_media::BodySniffer::for_content_type(
                content_type,
                limits,
            )),
            held: None,
            judged: false,
            check: Arc::default(),
        }
    }

    pub fn check(&self) -> Arc<UploadCheck> {
        Arc::clone(&self.check)
    }

    fn refuse(
        &mut self,
        r: amanah_media::Rejection,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.sniffer = None;
        self.held = None;
        self.judged = true;
        self.check.refuse(r.clone());
        Poll::Ready(Some(Err(r.into())))
    }
}

impl<B> HttpBody for SniffedBody<B>
where
    B: HttpBody<Data = Bytes, Error = BoxError> + Unpin,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.judged {
                return Poll::Ready(this.held.take().map(Ok));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let (Some(data), Some(sniffer)) = (frame.data_ref(), this.sniffer.as_mut()) {
                        match sniffer.push(data) {
                            Err(r) => return this.refuse(r),
                            Ok(amanah_media::Progress::Identified(_)) => {
                                this.check.identified.store(true, Ordering::Relaxed);
                            }
                            Ok(_) => {}
                        }
                    }
                    if let Some(previous) = this.held.replace(frame) {
                        return Poll::Ready(Some(Ok(previous)));
                    }
                }
                Poll::Ready(None) => {
                    let finished = this.sniffer.take().map(amanah_media::BodySniffer::finish);
                    if let Some(Err(r)) = finished {
                        return this.refuse(r);
                    }
                    this.judged = true;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.judged && self.held.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Frames already read, then the rest of `inner`.
pub struct PrefixedBody<B> {
    prefix: std::collections::VecDeque<Frame<Bytes>>,
    inner: Option<B>,
}

impl<B> std::fmt::Debug for PrefixedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrefixedBody")
            .field("prefix_frames", &self.prefix.len())
            .finish_non_exhaustive()
    }
}

impl<B> PrefixedBody<B> {
    /// `inner` is `None` when it has ended already.
    pub fn new(prefix: Vec<Frame<Bytes>>, inner: Option<B>) -> Self {
        Self {
            prefix: prefix.into(),
            inner,
        }
    }
}

impl<B> HttpBody for PrefixedBody<B>
where
    B: HttpBody<Data = Bytes, Error = BoxError> + Unpin,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(frame) = self.prefix.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::StreamBody;

    fn chunks(n: usize, size: usize) -> impl HttpBody<Data = Bytes, Error = BoxError> + Unpin {
        let frames =
            (0..n).map(move |_| Ok::<_, BoxError>(Frame::data(Bytes::from(vec![b'x'; size]))));
        StreamBody::new(IterStream(frames))
    }

    struct IterStream<I>(I);
    impl<I: Iterator + Unpin> futures_core::Stream for IterStream<I> {
        type Item = I::Item;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<I::Item>> {
            Poll::Ready(self.0.next())
        }
    }

    #[tokio::test]
    async fn passes_bodies_within_the_limit() {
        let body = GuardedBody::new(chunks(4, 10), Some(40), None);
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(collected.len(), 40);
    }

    #[tokio::test]
    async fn fails_past_the_limit_and_says_why() {
        let body = GuardedBody::new(chunks(5, 10), Some(40), None);
        let tripped = body.tripped();
        assert!(body.collect().await.is_err());
        assert!(tripped.too_large());
        assert!(!tripped.idle());
    }

    #[tokio::test(start_paused = true)]
    async fn fails_when_idle() {
        let (_tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BoxError>>(1);
        let stream = ReceiverStream(rx);
        let body = GuardedBody::new(StreamBody::new(stream), None, Some(Duration::from_secs(5)));
        let tripped = body.tripped();
        assert!(body.collect().await.is_err());
        assert!(tripped.idle());
    }

    struct ReceiverStream<T>(tokio::sync::mpsc::Receiver<T>);
    impl<T> futures_core::Stream for ReceiverStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }

    /// A WAV header saying `declared` data bytes, and `actual` bytes of
    /// data, as separate frames.
    fn wav_frames(declared: u32, actual: usize) -> Vec<Bytes> {
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(36 + declared).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&8000u32.to_le_bytes());
        h.extend_from_slice(&16000u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(b"data");
        h.extend_from_slice(&declared.to_le_bytes());
        vec![Bytes::from(h), Bytes::from(vec![0u8; actual])]
    }

    fn frames(list: Vec<Bytes>) -> impl HttpBody<Data = Bytes, Error = BoxError> + Unpin {
        StreamBody::new(IterStream(
            list.into_iter().map(|b| Ok::<_, BoxError>(Frame::data(b))),
        ))
    }

    /// The last frame of an upload is released only once the end has been
    /// judged: a truncated file never reaches the upstream whole, however
    /// the client marks its end.
    #[tokio::test]
    async fn an_upload_is_judged_before_its_last_frame_goes_out() {
        let mut truncated = SniffedBody::new(
            frames(wav_frames(16_000, 8_000)),
            amanah_media::Limits::audio(),
            None,
        );
        let check = truncated.check();
        let first = truncated.frame().await.unwrap().unwrap();
        assert_eq!(
            first.data_ref().unwrap().len(),
            44,
            "the header passes once more follows"
        );
        assert!(
            truncated.frame().await.unwrap().is_err(),
            "the data frame is held and refused"
        );
        assert!(check.rejection().is_some());
        assert!(truncated.frame().await.is_none());

        let mut whole = SniffedBody::new(
            frames(wav_frames(8_000, 8_000)),
            amanah_media::Limits::audio(),
            None,
        );
        let mut got = 0;
        while let Some(frame) = whole.frame().await {
            got += frame.unwrap().data_ref().map_or(0, Bytes::len);
        }
        assert_eq!(got, 44 + 8_000);
        assert!(whole.check().rejection().is_none() && whole.is_end_stream());
    }
}
