//! Masking credential values in the output stream before it reaches the round log. The last
//! `longest − 1` bytes are held back between chunks, so a secret split across two reads is still
//! caught; they are written at the end.

/// The credential values to mask and the bytes held back from the last chunk.
pub(crate) struct Masker {
    secrets: Vec<Vec<u8>>,
    keep: usize,
    carry: Vec<u8>,
}

impl Masker {
    /// A masker for `secrets`; `None` when there is nothing to mask.
    pub(crate) fn new(mut secrets: Vec<Vec<u8>>) -> Option<Self> {
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let keep = secrets.first()?.len() - 1;
        Some(Self {
            secrets,
            keep,
            carry: Vec::new(),
        })
    }

    /// Puts into `out` what can be written now.
    pub(crate) fn filter(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(chunk);
        for secret in &self.secrets {
            buf = replace_all(&buf, secret, crate::redact::MASK.as_bytes());
        }
        let cut = buf.len().saturating_sub(self.keep);
        self.carry = buf.split_off(cut);
        out.clear();
        out.extend_from_slice(&buf);
    }

    /// The bytes still held back, written when the output has ended.
    pub(crate) fn rest(&self) -> &[u8] {
        &self.carry
    }
}

/// The credential values the round log masks: those of six bytes or more.
pub(crate) fn maskable(secrets: &[(String, String)]) -> Vec<Vec<u8>> {
    secrets
        .iter()
        .map(|(_, v)| v.as_bytes().to_vec())
        .filter(|v| v.len() >= 6)
        .collect()
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(pos) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..pos]);
        out.extend_from_slice(with);
        rest = &rest[pos + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_across_chunk_boundaries() {
        let mut m = Masker::new(vec![b"hunter2-secret".to_vec(), b"abcdef".to_vec()]).unwrap();
        let mut log = Vec::new();
        let mut out = Vec::new();
        for chunk in [
            &b"pass=hunter2-se"[..],
            b"cret and abc",
            b"def, ok\n",
            b"tail",
        ] {
            m.filter(chunk, &mut out);
            log.extend_from_slice(&out);
        }
        log.extend_from_slice(&m.carry);
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "pass=[REDACTED] and [REDACTED], ok\ntail"
        );
        assert!(Masker::new(vec![]).is_none());
    }
}
