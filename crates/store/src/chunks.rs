//! Reading a file (or a `Take` of one) once, in 4 MiB chunks handed in order to the
//! caller. More than one chunk is read by a second thread while the caller works on
//! the last (hashing, writing), so the work never keeps the disk waiting.

use std::io::{self, Read};
use std::sync::mpsc::sync_channel;

/// The chunk a file is read in.
pub const CHUNK: usize = 4 << 20;

/// Reads `f` to its end, handing each chunk to `take`; `len` is what it is expected to
/// hold (up to one chunk: no second thread). Stops at the first error, `take`'s too.
pub fn read(f: &mut (dyn Read + Send), len: u64, take: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
    if len > CHUNK as u64 {
        return read_ahead(f, take);
    }
    let mut buf = vec![0; usize::try_from(len).unwrap_or(CHUNK).max(1)];
    loop {
        let n = read_full(f, &mut buf)?;
        if n > 0 {
            take(&buf[..n])?;
        }
        if n < buf.len() {
            return Ok(());
        }
    }
}

/// Reads `f` to its end on a second thread, three chunks in flight, handing each
/// to `take` in order.
fn read_ahead(f: &mut (dyn Read + Send), take: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
    let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(2);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(3);
    for _ in 0..3 {
        let _ = empty_tx.send(vec![0; CHUNK]);
    }
    std::thread::scope(|threads| {
        threads.spawn(move || {
            // Ends at the file's end, on an error, or when the taker has gone.
            while let Ok(mut buf) = empty_rx.recv() {
                buf.resize(CHUNK, 0);
                let n = match read_full(f, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        break;
                    }
                };
                buf.truncate(n);
                if full_tx.send(Ok(buf)).is_err() {
                    break;
                }
            }
        });
        // Dropped when this closure returns, before the reader is joined: a reader
        // waiting for a buffer then ends.
        let recycle = empty_tx;
        for buf in full_rx {
            let buf = buf?;
            take(&buf)?;
            let _ = recycle.send(buf);
        }
        Ok(())
    })
}

/// Fills `buf` unless the file ends first; the bytes read.
fn read_full(f: &mut (dyn Read + Send), buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_comes_once_in_order_and_an_error_of_the_taker_stops_it() {
        let data: Vec<u8> = (0..(2 * CHUNK + 123)).map(|i| (i % 251) as u8).collect();
        for len in [0, 10, CHUNK, data.len()] {
            let mut got = Vec::new();
            read(&mut &data[..len], len as u64, &mut |b| {
                got.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
            assert!(got == data[..len], "{len} bytes");
        }
        let mut calls = 0;
        let out = read(&mut &data[..], data.len() as u64, &mut |_| {
            calls += 1;
            Err(io::Error::other("full"))
        });
        assert_eq!((out.unwrap_err().to_string(), calls), ("full".into(), 1));
    }
}
