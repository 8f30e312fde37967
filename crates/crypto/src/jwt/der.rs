//! Just enough DER to read a public key: SEQUENCE, INTEGER, OBJECT
//! IDENTIFIER, NULL and BIT STRING, with definite minimal lengths only.
//!
//! Strict on purpose (no BER indefinite lengths, no long-form length where
//! the short form fits, no trailing bytes): a key is configuration, so an
//! odd encoding is far more likely a mistake or a trick than a need.

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;

/// Why a DER structure was refused. Static text: key bytes never appear.
pub(crate) type DerError = &'static str;

/// A cursor over DER bytes.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(&self) -> Result<(), DerError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err("trailing bytes after DER value")
        }
    }

    /// Reads one element with tag `tag` and returns its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Result<&'a [u8], DerError> {
        let (&found, rest) = self.rest.split_first().ok_or("truncated DER")?;
        if found != tag {
            return Err("unexpected DER tag");
        }
        let (&first, mut rest) = rest.split_first().ok_or("truncated DER")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            // 0x80 is BER's indefinite length; more than two length bytes
            // would mean a value over 64 KiB, far beyond any public key.
            if n == 0 || n > 2 {
                return Err("unsupported DER length");
            }
            if rest.len() < n {
                return Err("truncated DER");
            }
            let (len_bytes, after) = rest.split_at(n);
            rest = after;
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            // Minimal encoding: no leading zero byte, no long form under 128.
            if len_bytes[0] == 0 || len < 0x80 {
                return Err("non-minimal DER length");
            }
            len
        };
        if rest.len() < len {
            return Err("truncated DER");
        }
        let (contents, after) = rest.split_at(len);
        self.rest = after;
        Ok(contents)
    }

    /// Reads a SEQUENCE and returns a reader over its contents.
    pub(crate) fn sequence(&mut self) -> Result<Reader<'a>, DerError> {
        self.read(TAG_SEQUENCE).map(Reader::new)
    }

    /// Reads a non-negative INTEGER and returns its magnitude without
    /// leading zero bytes (the big-endian form JWK and ring expect).
    pub(crate) fn positive_integer(&mut self) -> Result<&'a [u8], DerError> {
        let bytes = self.read(TAG_INTEGER)?;
        match bytes {
            [] => Err("empty DER integer"),
            [first, ..] if first & 0x80 != 0 => Err("negative DER integer"),
            [0, second, ..] if second & 0x80 == 0 => Err("non-minimal DER integer"),
            [0, rest @ ..] => Ok(rest),
            _ => Ok(bytes),
        }
    }

    /// Reads a BIT STRING with no unused bits and returns its bytes.
    pub(crate) fn bit_string(&mut self) -> Result<&'a [u8], DerError> {
        match self.read(TAG_BIT_STRING)? {
            [0, rest @ ..] => Ok(rest),
            _ => Err("BIT STRING with unused bits"),
        }
    }

    pub(crate) fn oid(&mut self) -> Result<&'a [u8], DerError> {
        self.read(TAG_OID)
    }

    pub(crate) fn null(&mut self) -> Result<(), DerError> {
        if self.read(TAG_NULL)?.is_empty() {
            Ok(())
        } else {
            Err("NULL with contents")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_values() {
        // SEQUENCE { INTEGER 0x00ff, NULL }
        let der = [0x30, 0x06, 0x02, 0x02, 0x00, 0xff, 0x05, 0x00];
        let mut outer = Reader::new(&der);
        let mut seq = outer.sequence().unwrap();
        outer.finish().unwrap();
        assert_eq!(seq.positive_integer().unwrap(), [0xff]);
        seq.null().unwrap();
        seq.finish().unwrap();
    }

    #[test]
    fn long_form_length() {
        let mut der = vec![0x04, 0x81, 0x80];
        der.extend([7u8; 0x80]);
        assert_eq!(Reader::new(&der).read(0x04).unwrap().len(), 0x80);
    }

    #[test]
    fn refuses_odd_encodings() {
        let cases: &[&[u8]] = &[
            &[],
            &[0x30],
            &[0x30, 0x80, 0x00, 0x00],          // indefinite length
            &[0x30, 0x81, 0x05, 1, 2, 3, 4, 5], // long form below 128
            &[0x30, 0x82, 0x00, 0x81],          // leading zero length byte
            &[0x30, 0x83, 0x01, 0x00, 0x00],    // three length bytes
            &[0x30, 0x05, 0x00],                // truncated
            &[0x31, 0x00],                      // wrong tag
        ];
        for der in cases {
            assert!(Reader::new(der).sequence().is_err(), "{der:?}");
        }
        assert!(Reader::new(&[0x02, 0x01, 0x80]).positive_integer().is_err());
        assert!(Reader::new(&[0x02, 0x02, 0x00, 0x01])
            .positive_integer()
            .is_err());
        assert!(Reader::new(&[0x02, 0x00]).positive_integer().is_err());
        assert!(Reader::new(&[0x03, 0x02, 0x01, 0xfe]).bit_string().is_err());
        let two = [0x05, 0x00, 0x05, 0x00];
        let mut r = Reader::new(&two);
        r.null().unwrap();
        assert!(r.finish().is_err());
    }
}
