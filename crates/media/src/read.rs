//! Bounds-checked reads from the window. A parser first asks for the bytes
//! it needs with `Step::Need`, so these never fail in practice; if one
//! does, the upload is refused rather than the process panicking.

use crate::Rejection;

const SHORT: Rejection = Rejection::malformed("header shorter than declared");

pub(crate) fn arr<const N: usize>(w: &[u8], at: usize) -> Result<[u8; N], Rejection> {
    let end = at.checked_add(N).ok_or(SHORT)?;
    let s = w.get(at..end).ok_or(SHORT)?;
    <[u8; N]>::try_from(s).map_err(|_| SHORT)
}

pub(crate) fn slice(w: &[u8], at: usize, len: usize) -> Result<&[u8], Rejection> {
    let end = at.checked_add(len).ok_or(SHORT)?;
    w.get(at..end).ok_or(SHORT)
}

pub(crate) fn u8_at(w: &[u8], at: usize) -> Result<u8, Rejection> {
    w.get(at).copied().ok_or(SHORT)
}

pub(crate) fn le16(w: &[u8], at: usize) -> Result<u16, Rejection> {
    arr(w, at).map(u16::from_le_bytes)
}

pub(crate) fn le32(w: &[u8], at: usize) -> Result<u32, Rejection> {
    arr(w, at).map(u32::from_le_bytes)
}

pub(crate) fn le64(w: &[u8], at: usize) -> Result<u64, Rejection> {
    arr(w, at).map(u64::from_le_bytes)
}

pub(crate) fn be16(w: &[u8], at: usize) -> Result<u16, Rejection> {
    arr(w, at).map(u16::from_be_bytes)
}

pub(crate) fn be32(w: &[u8], at: usize) -> Result<u32, Rejection> {
    arr(w, at).map(u32::from_be_bytes)
}

pub(crate) fn be64(w: &[u8], at: usize) -> Result<u64, Rejection> {
    arr(w, at).map(u64::from_be_bytes)
}

/// `base + delta` as a stream offset, refusing overflow (a size field near
/// `u64::MAX`).
pub(crate) fn offset(base: u64, delta: u64) -> Result<u64, Rejection> {
    base.checked_add(delta)
        .ok_or(Rejection::malformed("size field overflows"))
}

/// A window length as `usize`, refusing sizes no window can hold.
pub(crate) fn need(len: u64) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX)
}
