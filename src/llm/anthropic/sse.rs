//! A minimal Server-Sent Events reader: `event:` and `data:` lines, events
//! separated by a blank line. Enough for the Messages API stream.
//!
//! At the end of the stream, [`SseBuffer::finish`] yields the event still
//! buffered, whose closing blank line never came.
//!
//! Bounded and linear: an event larger than the bound is an error as soon
//! as that many bytes are buffered (nothing more is kept), and each byte is
//! scanned for the end of an event once, however the stream is cut into
//! chunks (the scan resumes where the previous one stopped).

/// Accumulates bytes and yields complete events.
#[derive(Debug)]
pub(crate) struct SseBuffer {
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts (consumed events are dropped
    /// at the next push, once per chunk rather than once per event).
    start: usize,
    /// Where the next scan for `\n\n` resumes: no event ends before it.
    scanned: usize,
    max_event: usize,
}

/// One event: its name (`event:`) and its data (`data:` lines joined).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) event: String,
    pub(crate) data: String,
}

/// An event of more than `max_event` bytes (its lines, without the blank
/// line that ends it).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EventTooLarge;

impl SseBuffer {
    /// A reader refusing events of more than `max_event` bytes.
    pub(crate) fn new(max_event: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            max_event,
        }
    }

    /// Appends bytes from the wire (`\r` dropped, so CRLF framing works).
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf
            .extend(bytes.iter().copied().filter(|b| *b != b'\r'));
    }

    /// The next complete event, if one is buffered.
    pub(crate) fn next_event(&mut self) -> Result<Option<SseEvent>, EventTooLarge> {
        loop {
            let from = self.scanned.max(self.start);
            let Some(at) = self.buf[from..].windows(2).position(|w| w == b"\n\n") else {
                // A `\n` ending the buffer may begin the blank line: look
                // at it again next time.
                self.scanned = self.buf.len().saturating_sub(1).max(self.start);
                // +1: the first `\n` of the blank line is not the event's.
                if self.buf.len() - self.start > self.max_event + 1 {
                    return Err(EventTooLarge);
                }
                return Ok(None);
            };
            let end = from + at;
            let block = &self.buf[self.start..end];
            self.start = end + 2;
            self.scanned = self.start;
            if block.len() > self.max_event {
                return Err(EventTooLarge);
            }
            if let Some(event) = parse(block) {
                return Ok(Some(event));
            }
        }
    }

    /// At the end of the stream: the event still buffered, if any, as
    /// though a blank line had closed it (the stream's last event may come
    /// without one). Whether it is whole is for its reader to judge (its
    /// JSON parses).
    pub(crate) fn finish(&mut self) -> Option<SseEvent> {
        let block = &self.buf[self.start..];
        let block = block.strip_suffix(b"\n").unwrap_or(block);
        let event = if block.len() > self.max_event {
            None
        } else {
            parse(block)
        };
        self.start = self.buf.len();
        self.scanned = self.start;
        event
    }
}

/// The event of one block (its lines without the blank line), or `None`
/// for a block of comments only.
fn parse(block: &[u8]) -> Option<SseEvent> {
    let text = String::from_utf8_lossy(block);
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
    (!event.is_empty() || !data.is_empty()).then_some(SseEvent { event, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks() {
        let mut b = SseBuffer::new(1024);
        b.push(b"event: ping\ndata: {\"type\":");
        assert_eq!(b.next_event(), Ok(None));
        b.push(b" \"ping\"}\r\n\r\n: comment\n\nevent: x\ndata: a\ndata: b\n\n");
        assert_eq!(
            b.next_event(),
            Ok(Some(SseEvent {
                event: "ping".into(),
                data: "{\"type\": \"ping\"}".into()
            }))
        );
        assert_eq!(
            b.next_event(),
            Ok(Some(SseEvent {
                event: "x".into(),
                data: "a\nb".into()
            }))
        );
        assert_eq!(b.next_event(), Ok(None));
    }

    #[test]
    fn a_blank_line_cut_between_chunks_still_ends_the_event() {
        let mut b = SseBuffer::new(1024);
        for piece in [
            "event: a\ndata: 1\n",
            "\n",
            "event: b\n",
            "data: 2\n\r",
            "\n",
        ] {
            b.push(piece.as_bytes());
        }
        assert_eq!(b.next_event().unwrap().unwrap().data, "1");
        assert_eq!(b.next_event().unwrap().unwrap().data, "2");
        assert_eq!(b.next_event(), Ok(None));
        assert!(b.buf.len() - b.start == 0);
    }

    #[test]
    fn events_up_to_the_bound_pass_and_larger_ones_fail() {
        // "data: " + 10 bytes = 16 bytes of event.
        let mut b = SseBuffer::new(16);
        b.push(b"data: 0123456789\n\n");
        assert_eq!(b.next_event().unwrap().unwrap().data, "0123456789");

        // Arriving whole: refused when its end is seen.
        let mut b = SseBuffer::new(16);
        b.push(b"data: 0123456789A\n\n");
        assert_eq!(b.next_event(), Err(EventTooLarge));

        // Arriving in pieces: refused as soon as more than the bound is
        // buffered, before its end.
        let mut b = SseBuffer::new(16);
        b.push(b"data: 0123456789");
        assert_eq!(b.next_event(), Ok(None));
        b.push(b"\n");
        assert_eq!(b.next_event(), Ok(None), "the blank line may follow");
        b.push(b"more");
        assert_eq!(b.next_event(), Err(EventTooLarge));
    }

    #[test]
    fn the_last_event_without_a_blank_line_comes_out_at_the_end() {
        for tail in ["", "\n"] {
            let mut b = SseBuffer::new(1024);
            b.push(format!("event: a\ndata: 1\n\nevent: b\ndata: 2{tail}").as_bytes());
            assert_eq!(b.next_event().unwrap().unwrap().data, "1");
            assert_eq!(b.next_event(), Ok(None));
            let last = b.finish().unwrap();
            assert_eq!((last.event.as_str(), last.data.as_str()), ("b", "2"));
            assert_eq!(b.finish(), None, "once");
        }
        let mut b = SseBuffer::new(1024);
        b.push(b"data: 1\n\n: comment\n");
        assert_eq!(b.next_event().unwrap().unwrap().data, "1");
        assert_eq!(b.finish(), None);
    }

    /// A 900 KiB event pushed one byte at a time: linear, so well under a
    /// second even unoptimized. The old reader rescanned the buffer from
    /// its start on every push (n²/2 ≈ 4·10¹¹ byte comparisons).
    #[test]
    fn long_event_byte_by_byte_is_linear() {
        let mut event = b"event: content_block_delta\ndata: ".to_vec();
        event.extend(std::iter::repeat_n(b'x', 900 * 1024));
        event.extend_from_slice(b"\n\n");
        let mut b = SseBuffer::new(1 << 20);
        let start = std::time::Instant::now();
        let bound = std::time::Duration::from_secs(2);
        let mut got = None;
        for byte in &event {
            b.push(std::slice::from_ref(byte));
            if let Some(e) = b.next_event().unwrap() {
                got = Some(e);
            }
            assert!(
                start.elapsed() < bound,
                "still reading after {bound:?}: {} of {} bytes",
                b.buf.len(),
                event.len()
            );
        }
        assert_eq!(got.map(|e| e.data.len()), Some(900 * 1024));
    }
}
