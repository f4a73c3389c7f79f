//! In-process SMTP sink: accepts plain SMTP (no TLS, no AUTH) on 127.0.0.1 and records every message.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Longest command or data line accepted before the connection is dropped.
const MAX_LINE: usize = 1024 * 1024;

/// One message accepted by the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`), without angle brackets; empty for the null sender.
    pub from: String,
    /// Envelope recipients (`RCPT TO`), without angle brackets, in order.
    pub to: Vec<String>,
    /// The raw DATA section exactly as sent (CRLF line endings, still dot-stuffed),
    /// without the terminating `.` line.
    pub data: String,
}

/// A running SMTP sink; the listener stops when this is dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    mails: watch::Receiver<Vec<ReceivedMail>>,
    accept_task: JoinHandle<()>,
}

/// Starts an SMTP sink on `127.0.0.1` with an ephemeral port.
pub async fn start() -> SmtpSink {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("SMTP sink: cannot bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("SMTP sink: no local address");
    let (tx, rx) = watch::channel(Vec::new());
    let tx = Arc::new(tx);
    let accept_task = tokio::spawn(async move {
        loop {
            let Ok((stream, _peer)) = listener.accept().await else {
                continue;
            };
            let tx = Arc::clone(&tx);
            tokio::spawn(async move {
                // A broken client connection only affects that connection.
                let _ = serve_connection(stream, &tx).await;
            });
        }
    });
    SmtpSink {
        addr,
        mails: rx,
        accept_task,
    }
}

impl SmtpSink {
    /// `smtp://127.0.0.1:<port>`, suitable for `lettre::AsyncSmtpTransport::from_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}:{}", self.addr.ip(), self.addr.port())
    }

    /// The port the sink listens on (host is always `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message received so far, in arrival order.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.mails.borrow().clone()
    }

    /// Waits until at least `count` messages have arrived and returns all messages received so
    /// far (arrival order). Panics if that does not happen within `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let mut rx = self.mails.clone();
        match tokio::time::timeout(timeout, rx.wait_for(|mails| mails.len() >= count)).await {
            Ok(Ok(mails)) => mails.clone(),
            Ok(Err(_)) => panic!("SMTP sink at {} stopped while waiting for mail", self.url()),
            Err(_) => {
                let got = self.mails.borrow();
                panic!(
                    "SMTP sink at {}: expected {count} message(s) within {timeout:?}, got {}: {:#?}",
                    self.url(),
                    got.len(),
                    *got
                )
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

/// State of one SMTP transaction (between `MAIL` and the end of `DATA`).
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn serve_connection(
    stream: TcpStream,
    mails: &watch::Sender<Vec<ReceivedMail>>,
) -> std::io::Result<()> {
    let (read_half, mut writer) = stream.into_split();
    let mut reader = BufReader::new(read_half);
    writer
        .write_all(b"220 127.0.0.1 Partner Hub test SMTP sink ready\r\n")
        .await?;
    let mut envelope = Envelope::default();
    let mut line = Vec::new();
    loop {
        if !read_line(&mut reader, &mut line).await? {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, rest) = match text.split_once(' ') {
            Some((verb, rest)) => (verb.to_ascii_uppercase(), rest.trim()),
            None => (text.to_ascii_uppercase(), ""),
        };
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => {
                envelope = Envelope::default();
                b"250-127.0.0.1 greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n"
            }
            "HELO" => {
                envelope = Envelope::default();
                b"250 127.0.0.1\r\n"
            }
            "MAIL" => match parameter(rest, "FROM:") {
                Some(from) => {
                    envelope = Envelope {
                        from: Some(from),
                        to: Vec::new(),
                    };
                    b"250 OK\r\n"
                }
                None => b"501 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (&envelope.from, parameter(rest, "TO:")) {
                (None, _) => b"503 Need MAIL before RCPT\r\n",
                (Some(_), Some(to)) => {
                    envelope.to.push(to);
                    b"250 OK\r\n"
                }
                (Some(_), None) => b"501 Syntax: RCPT TO:<address>\r\n",
            },
            "DATA" => {
                if envelope.from.is_none() || envelope.to.is_empty() {
                    b"503 Need MAIL and RCPT before DATA\r\n"
                } else {
                    writer
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let Some(data) = read_data(&mut reader, &mut line).await? else {
                        return Ok(());
                    };
                    let finished = std::mem::take(&mut envelope);
                    let mail = ReceivedMail {
                        from: finished.from.unwrap_or_default(),
                        to: finished.to,
                        data,
                    };
                    mails.send_modify(|all| all.push(mail));
                    b"250 OK: queued\r\n"
                }
            }
            "RSET" => {
                envelope = Envelope::default();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                writer.write_all(b"221 Bye\r\n").await?;
                writer.shutdown().await?;
                return Ok(());
            }
            "" => b"500 Empty command\r\n",
            _ => b"502 Command not implemented\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// Reads one `\n`-terminated line into `line`; `false` at end of stream.
async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    line.clear();
    let read = (&mut *reader)
        .take(MAX_LINE as u64)
        .read_until(b'\n', line)
        .await?;
    if read == 0 {
        return Ok(false);
    }
    if !line.ends_with(b"\n") && read >= MAX_LINE {
        return Err(std::io::Error::other("SMTP line too long"));
    }
    Ok(true)
}

/// Reads the DATA section up to the lone `.` line; `None` if the client disconnected first.
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    line: &mut Vec<u8>,
) -> std::io::Result<Option<String>> {
    let mut data = Vec::new();
    loop {
        if !read_line(reader, line).await? {
            return Ok(None);
        }
        if line.as_slice() == b".\r\n" || line.as_slice() == b".\n" {
            return Ok(Some(String::from_utf8_lossy(&data).into_owned()));
        }
        data.extend_from_slice(line);
    }
}

/// Extracts the address from `FROM:<a@b> PARAMS` / `TO:<a@b>` (keyword matched case-insensitively).
fn parameter(rest: &str, keyword: &str) -> Option<String> {
    let head = rest.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let value = rest.get(keyword.len()..)?.trim_start();
    if let Some(inner) = value.strip_prefix('<') {
        let end = inner.find('>')?;
        return inner.get(..end).map(str::to_owned);
    }
    let address = value.split_whitespace().next()?;
    Some(address.to_owned())
}

impl ReceivedMail {
    /// The readable text of the message: SMTP dot-stuffing undone, line endings normalised to
    /// `\n`, and every (nested multipart) body part decoded from quoted-printable (soft line
    /// breaks, `=3D`, other `=XX` escapes) or base64. Parts are joined with `\n`; part headers
    /// are left out. Use it to search for links and codes in mails.
    pub fn body_text(&self) -> String {
        decode_entity(&self.unstuffed())
    }

    /// The value of the first top-level header called `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let message = self.unstuffed();
        let (headers, _) = split_entity(&message);
        header_value(&headers, name)
    }

    /// `data` with dot-stuffing undone and CRLF turned into LF.
    fn unstuffed(&self) -> String {
        let normalised = self.data.replace("\r\n", "\n");
        let mut out = String::with_capacity(normalised.len());
        for line in normalised.split_inclusive('\n') {
            out.push_str(line.strip_prefix('.').unwrap_or(line));
        }
        out
    }
}

/// Splits a MIME entity into unfolded `(name, value)` headers and its body.
fn split_entity(entity: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = if let Some(rest) = entity.strip_prefix('\n') {
        ("", rest)
    } else {
        entity.split_once("\n\n").unwrap_or((entity, ""))
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    (headers, body)
}

fn header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.clone())
}

/// Decodes one MIME entity (recursing into multiparts) into text.
fn decode_entity(entity: &str) -> String {
    let (headers, body) = split_entity(entity);
    let content_type = header_value(&headers, "Content-Type").unwrap_or_default();
    if content_type.to_ascii_lowercase().starts_with("multipart/")
        && let Some(boundary) = boundary(&content_type)
    {
        let delimiter = format!("--{boundary}");
        let mut parts = Vec::new();
        let mut current: Option<String> = None;
        for line in body.split_inclusive('\n') {
            let bare = line.trim_end();
            if bare == delimiter || bare == format!("{delimiter}--") {
                if let Some(part) = current.take() {
                    parts.push(decode_entity(&part));
                }
                if bare == delimiter {
                    current = Some(String::new());
                }
            } else if let Some(part) = current.as_mut() {
                part.push_str(line);
            }
        }
        if let Some(part) = current {
            parts.push(decode_entity(&part));
        }
        return parts.join("\n");
    }
    let encoding = header_value(&headers, "Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => decode_base64(body),
        _ => body.to_owned(),
    }
}

/// The `boundary` parameter of a `Content-Type` value.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn decode_quoted_printable(body: &str) -> String {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'=' {
            let rest = &bytes[i + 1..];
            if rest.starts_with(b"\n") {
                i += 2;
                continue;
            }
            if rest.starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if let (Some(high), Some(low)) = (
                rest.first().and_then(|b| hex_value(*b)),
                rest.get(1).and_then(|b| hex_value(*b)),
            ) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

fn decode_base64(body: &str) -> String {
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    let mut accumulator: u32 = 0;
    let mut bits = 0;
    for byte in body.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        accumulator = (accumulator << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((accumulator >> bits) & 0xFF) as u8);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
