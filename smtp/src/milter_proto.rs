//! The milter protocol (version 6, as Sendmail's libmilter and Postfix speak it), bytes in and out,
//! no I/O.
//!
//! Every packet is a 4-byte big-endian length (of what follows), a command byte and its data.
//! [`Frames`] cuts a byte stream into packets and refuses a length over [`MAX_PACKET`] before
//! reading it (a lying length cannot make the service allocate); [`parse`] turns a packet into a
//! [`Command`]; [`Response::encode`] writes the replies.

/// The protocol version spoken.
pub const VERSION: u32 = 6;
/// Largest packet accepted (bytes after the length). Postfix sends body chunks of at most 65,535
/// bytes and headers of at most its `header_size_limit` (102,400 by default).
pub const MAX_PACKET: usize = 256 * 1024;

/// Actions a filter may ask for (`SMFIF_*`).
pub mod action {
    /// Add headers.
    pub const ADD_HEADERS: u32 = 0x01;
    /// Put the message on hold (Postfix's hold queue).
    pub const QUARANTINE: u32 = 0x20;
}

/// Protocol steps a filter may ask the MTA to skip (`SMFIP_*`).
pub mod protocol {
    /// Do not send the body.
    pub const NO_BODY: u32 = 0x10;
}

/// One packet: a command byte and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The command byte (`O`, `D`, `C`, `H`, `M`, `R`, `T`, `L`, `N`, `B`, `E`, `A`, `Q`, `K`, `U`).
    pub command: u8,
    /// What follows it.
    pub data: Vec<u8>,
}

/// A stream that is not the milter protocol: the connection cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A length over [`MAX_PACKET`].
    TooLong(u32),
    /// A length of zero (no command byte).
    Empty,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLong(n) => write!(f, "a packet of {n} bytes (at most {MAX_PACKET})"),
            FrameError::Empty => write!(f, "a packet of length 0 (no command)"),
        }
    }
}

/// Cuts a byte stream into packets.
#[derive(Debug, Default)]
pub struct Frames {
    buf: Vec<u8>,
}

impl Frames {
    /// An empty reader.
    pub fn new() -> Frames {
        Frames::default()
    }

    /// Add what the socket gave.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole packet, `Ok(None)` when more bytes are needed. After an error the stream
    /// is lost (the length cannot be trusted) and the connection should be closed.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, FrameError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        if len == 0 {
            return Err(FrameError::Empty);
        }
        if len as usize > MAX_PACKET {
            return Err(FrameError::TooLong(len));
        }
        let end = 4 + len as usize;
        if self.buf.len() < end {
            return Ok(None);
        }
        let command = self.buf[4];
        let data = self.buf[5..end].to_vec();
        self.buf.drain(..end);
        Ok(Some(Packet { command, data }))
    }

    /// Bytes held that are not a whole packet yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// A command from the MTA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `O`: the MTA's version, the actions it allows, the steps it can skip.
    OptNeg {
        /// Protocol version.
        version: u32,
        /// `SMFIF_*` the MTA allows.
        actions: u32,
        /// `SMFIP_*` the MTA can honour.
        protocol: u32,
    },
    /// `D`: macros for the command `stage` that follows.
    Macros {
        /// The command they belong to.
        stage: u8,
        /// `(name, value)`; names as sent (`i`, `{auth_authen}`).
        pairs: Vec<(String, String)>,
    },
    /// `C`: the client.
    Connect {
        /// Its host name.
        hostname: String,
        /// `4`, `6`, `L` (unix) or `U` (unknown).
        family: u8,
        /// Its port (0 when unknown, as on Postfix's sendmail path).
        port: u16,
        /// Its address.
        address: String,
    },
    /// `H`: HELO/EHLO.
    Helo(String),
    /// `M`: MAIL FROM; the address (angle brackets as sent), then ESMTP arguments.
    Mail(Vec<String>),
    /// `R`: RCPT TO; the address, then ESMTP arguments.
    Rcpt(Vec<String>),
    /// `T`: DATA.
    Data,
    /// `L`: one header.
    Header {
        /// Its name.
        name: String,
        /// Its value (unfolded by the MTA or not; read as sent).
        value: String,
    },
    /// `N`: end of headers.
    EndOfHeaders,
    /// `B`: a body chunk (its length; the service does not read bodies).
    Body(usize),
    /// `E`: end of message.
    EndOfMessage,
    /// `A`: the message is abandoned; the connection goes on.
    Abort,
    /// `Q`: the connection ends.
    Quit,
    /// `K`: this message conversation ends, another begins on the same connection.
    QuitNewConnection,
    /// `U`: an SMTP command the MTA did not know.
    Unknown(String),
}

/// A packet that is not a well-formed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// An unknown command byte.
    UnknownCommand(u8),
    /// A command whose data is too short for its fields.
    Short(u8),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::UnknownCommand(c) => write!(f, "unknown milter command 0x{c:02x}"),
            ParseError::Short(c) => {
                write!(
                    f,
                    "milter command '{}' too short for its fields",
                    char::from(*c)
                )
            }
        }
    }
}

/// NUL-terminated strings; a last one without its NUL is taken as it is. Bytes that are not UTF-8
/// are replaced (headers may hold raw 8-bit text).
fn strings(data: &[u8]) -> Vec<String> {
    let data = data.strip_suffix(&[0]).unwrap_or(data);
    if data.is_empty() {
        return Vec::new();
    }
    data.split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Read one packet.
pub fn parse(p: &Packet) -> Result<Command, ParseError> {
    let c = p.command;
    let d = &p.data[..];
    let short = || ParseError::Short(c);
    Ok(match c {
        b'O' => Command::OptNeg {
            version: u32_at(d, 0).ok_or_else(short)?,
            actions: u32_at(d, 4).ok_or_else(short)?,
            protocol: u32_at(d, 8).ok_or_else(short)?,
        },
        b'D' => {
            let (&stage, rest) = d.split_first().ok_or_else(short)?;
            let s = strings(rest);
            let pairs = s
                .chunks(2)
                .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
                .collect();
            Command::Macros { stage, pairs }
        }
        b'C' => {
            let nul = d.iter().position(|&b| b == 0).ok_or_else(short)?;
            let hostname = String::from_utf8_lossy(&d[..nul]).into_owned();
            let rest = &d[nul + 1..];
            let (&family, rest) = rest.split_first().ok_or_else(short)?;
            if family == b'U' {
                Command::Connect {
                    hostname,
                    family,
                    port: 0,
                    address: String::new(),
                }
            } else {
                let port = rest.get(..2).ok_or_else(short)?;
                let port = u16::from_be_bytes([port[0], port[1]]);
                let address = strings(&rest[2..]).into_iter().next().unwrap_or_default();
                Command::Connect {
                    hostname,
                    family,
                    port,
                    address,
                }
            }
        }
        b'H' => Command::Helo(strings(d).into_iter().next().unwrap_or_default()),
        b'M' => Command::Mail(strings(d)),
        b'R' => Command::Rcpt(strings(d)),
        b'T' => Command::Data,
        b'L' => {
            let mut s = strings(d).into_iter();
            let name = s.next().ok_or_else(short)?;
            Command::Header {
                name,
                value: s.next().unwrap_or_default(),
            }
        }
        b'N' => Command::EndOfHeaders,
        b'B' => Command::Body(d.len()),
        b'E' => Command::EndOfMessage,
        b'A' => Command::Abort,
        b'Q' => Command::Quit,
        b'K' => Command::QuitNewConnection,
        b'U' => Command::Unknown(strings(d).into_iter().next().unwrap_or_default()),
        other => return Err(ParseError::UnknownCommand(other)),
    })
}

/// A reply to the MTA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `O`: the version, actions and skipped steps the filter wants.
    OptNeg {
        /// Protocol version.
        version: u32,
        /// `SMFIF_*` wanted.
        actions: u32,
        /// `SMFIP_*` wanted.
        protocol: u32,
    },
    /// `c`: go on.
    Continue,
    /// `a`: accept (this recipient, or the message).
    Accept,
    /// `t`: temporary failure.
    Tempfail,
    /// `y`: reject with this SMTP reply (`550 5.1.1 text`).
    ReplyCode(String),
    /// `h`: add a header at the end of the header block.
    AddHeader {
        /// Its name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `q`: put the message on hold, with a reason.
    Quarantine(String),
}

/// `s` with NUL bytes removed, and `%` (which libmilter-based MTAs read as a format character in
/// reply text) left out.
fn clean(s: &str, reply_text: bool) -> Vec<u8> {
    s.bytes()
        .filter(|&b| b != 0 && !(reply_text && b == b'%'))
        .collect()
}

impl Response {
    /// The packet, length first.
    pub fn encode(&self) -> Vec<u8> {
        let (cmd, data): (u8, Vec<u8>) = match self {
            Response::OptNeg {
                version,
                actions,
                protocol,
            } => {
                let mut d = Vec::with_capacity(12);
                d.extend_from_slice(&version.to_be_bytes());
                d.extend_from_slice(&actions.to_be_bytes());
                d.extend_from_slice(&protocol.to_be_bytes());
                (b'O', d)
            }
            Response::Continue => (b'c', Vec::new()),
            Response::Accept => (b'a', Vec::new()),
            Response::Tempfail => (b't', Vec::new()),
            Response::ReplyCode(text) => {
                let mut d = clean(text, true);
                d.push(0);
                (b'y', d)
            }
            Response::AddHeader { name, value } => {
                let mut d = clean(name, false);
                d.push(0);
                d.extend(clean(value, false));
                d.push(0);
                (b'h', d)
            }
            Response::Quarantine(reason) => {
                let mut d = clean(reason, false);
                d.push(0);
                (b'q', d)
            }
        };
        let mut out = Vec::with_capacity(5 + data.len());
        out.extend_from_slice(&(data.len() as u32 + 1).to_be_bytes());
        out.push(cmd);
        out.extend_from_slice(&data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(cmd: u8, data: &[u8]) -> Vec<u8> {
        let mut v = ((data.len() + 1) as u32).to_be_bytes().to_vec();
        v.push(cmd);
        v.extend_from_slice(data);
        v
    }

    fn one(bytes: &[u8]) -> Result<Command, ParseError> {
        let mut f = Frames::new();
        f.feed(bytes);
        let p = f.next_packet().unwrap().unwrap();
        parse(&p)
    }

    #[test]
    fn postfix_commands_are_read() {
        let mut opt = Vec::new();
        for v in [6u32, 0x1ff, 0x1fffff] {
            opt.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(
            one(&packet(b'O', &opt)),
            Ok(Command::OptNeg {
                version: 6,
                actions: 0x1ff,
                protocol: 0x1fffff
            })
        );
        assert_eq!(
            one(&packet(b'D', b"Mi\0ABC123\0{auth_authen}\0jan\0")),
            Ok(Command::Macros {
                stage: b'M',
                pairs: vec![
                    ("i".into(), "ABC123".into()),
                    ("{auth_authen}".into(), "jan".into())
                ]
            })
        );
        assert_eq!(
            one(&packet(b'C', b"localhost\x004\x00\x00127.0.0.1\0")),
            Ok(Command::Connect {
                hostname: "localhost".into(),
                family: b'4',
                port: 0,
                address: "127.0.0.1".into()
            })
        );
        assert_eq!(
            one(&packet(b'R', b"<c@navy.ml>\0NOTIFY=NEVER\0")),
            Ok(Command::Rcpt(vec![
                "<c@navy.ml>".into(),
                "NOTIFY=NEVER".into()
            ]))
        );
        assert_eq!(
            one(&packet(b'L', b"To\0Lt J. Smith <j@navy.ml>\0")),
            Ok(Command::Header {
                name: "To".into(),
                value: "Lt J. Smith <j@navy.ml>".into()
            })
        );
        assert_eq!(one(&packet(b'B', b"hello")), Ok(Command::Body(5)));
        assert_eq!(one(&packet(b'K', b"")), Ok(Command::QuitNewConnection));
    }

    #[test]
    fn short_and_unknown_commands_are_errors() {
        assert_eq!(
            one(&packet(b'O', &[0, 0, 0, 6])),
            Err(ParseError::Short(b'O'))
        );
        assert_eq!(
            one(&packet(b'C', b"host-without-nul")),
            Err(ParseError::Short(b'C'))
        );
        assert_eq!(
            one(&packet(b'C', b"h\x004\x00")),
            Err(ParseError::Short(b'C'))
        );
        assert_eq!(one(&packet(b'D', b"")), Err(ParseError::Short(b'D')));
        assert_eq!(
            one(&packet(b'z', b"")),
            Err(ParseError::UnknownCommand(b'z'))
        );
    }

    #[test]
    fn a_lying_length_is_refused_before_it_is_read() {
        let mut f = Frames::new();
        f.feed(&[0x7f, 0xff, 0xff, 0xff, b'R']);
        assert_eq!(f.next_packet(), Err(FrameError::TooLong(0x7fff_ffff)));
        let mut f = Frames::new();
        f.feed(&[0, 0, 0, 0]);
        assert_eq!(f.next_packet(), Err(FrameError::Empty));
        // A length larger than what came waits for more, holding only what came.
        let mut f = Frames::new();
        f.feed(&packet(b'R', b"<a@b.c>\0")[..7]);
        assert_eq!(f.next_packet(), Ok(None));
        assert_eq!(f.pending(), 7);
    }

    #[test]
    fn packets_split_anywhere_come_out_whole() {
        let mut stream = packet(b'M', b"<ray.k@army.mil>\0");
        stream.extend(packet(b'R', b"<c@navy.ml>\0"));
        for cut in 0..stream.len() {
            let mut f = Frames::new();
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                f.feed(part);
                while let Some(p) = f.next_packet().unwrap() {
                    got.push(parse(&p).unwrap());
                }
            }
            assert_eq!(
                got,
                vec![
                    Command::Mail(vec!["<ray.k@army.mil>".into()]),
                    Command::Rcpt(vec!["<c@navy.ml>".into()])
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn replies_are_framed() {
        assert_eq!(Response::Continue.encode(), vec![0, 0, 0, 1, b'c']);
        assert_eq!(
            Response::ReplyCode("550 5.1.1 100% wrong\0".into()).encode(),
            packet(b'y', b"550 5.1.1 100 wrong\0")
        );
        assert_eq!(
            Response::AddHeader {
                name: "X-Mistype".into(),
                value: "check".into()
            }
            .encode(),
            packet(b'h', b"X-Mistype\0check\0")
        );
        let o = Response::OptNeg {
            version: 6,
            actions: 0x21,
            protocol: 0x10,
        }
        .encode();
        assert_eq!(o.len(), 4 + 1 + 12);
        assert_eq!(&o[5..9], &6u32.to_be_bytes());
    }
}
