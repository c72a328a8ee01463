//! A minimal Server-Sent Events reader: `event:` and `data:` lines, events
//! separated by a blank line. Enough for the Messages API stream.

/// Accumulates bytes and yields complete events.
#[derive(Debug, Default)]
pub(crate) struct SseBuffer {
    buf: Vec<u8>,
}

/// One event: its name (`event:`) and its data (`data:` lines joined).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) event: String,
    pub(crate) data: String,
}

impl SseBuffer {
    /// Appends bytes from the wire (`\r` dropped, so CRLF framing works).
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf
            .extend(bytes.iter().copied().filter(|b| *b != b'\r'));
    }

    /// The next complete event, if one is buffered.
    pub(crate) fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buf.windows(2).position(|w| w == b"\n\n")?;
            let block: Vec<u8> = self.buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&block[..end]);
            let mut event = String::new();
            let mut data = String::new();
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim_start().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if !event.is_empty() || !data.is_empty() {
                return Some(SseEvent { event, data });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks() {
        let mut b = SseBuffer::default();
        b.push(b"event: ping\ndata: {\"type\":");
        assert_eq!(b.next_event(), None);
        b.push(b" \"ping\"}\r\n\r\n: comment\n\nevent: x\ndata: a\ndata: b\n\n");
        assert_eq!(
            b.next_event(),
            Some(SseEvent {
                event: "ping".into(),
                data: "{\"type\": \"ping\"}".into()
            })
        );
        assert_eq!(
            b.next_event(),
            Some(SseEvent {
                event: "x".into(),
                data: "a\nb".into()
            })
        );
        assert_eq!(b.next_event(), None);
    }
}
