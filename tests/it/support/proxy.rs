//! A tiny HTTP CONNECT proxy on 127.0.0.1 that records what it was asked and either tunnels every
//! CONNECT to one local port (whatever host was named: only loopback is ever contacted), refuses
//! with a status, or hangs up.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::rt;

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Answer 200 and tunnel to 127.0.0.1:port.
    Tunnel(u16),
    /// Answer this status (e.g. 403, 407) and close.
    Refuse(u16),
    /// Close the connection after reading the request, without a word.
    HangUp,
}

pub struct ConnectProxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start(mode: Mode) -> ConnectProxy {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let port = std_listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        rt().spawn(async move {
            let listener = TcpListener::from_std(std_listener).expect("tokio listener");
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = handle(client, mode, &log).await;
                });
            }
        });
        ConnectProxy { port, seen }
    }

    /// `http://127.0.0.1:PORT`, the form HTTPS_PROXY takes.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The request line of every request the proxy received, e.g. `CONNECT host:443 HTTP/1.1`.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

async fn handle(
    mut client: TcpStream,
    mode: Mode,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte so nothing after the head (the TLS ClientHello) is swallowed.
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let first = text.lines().next().unwrap_or("").to_string();
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(first.clone());
    match mode {
        Mode::HangUp => Ok(()),
        Mode::Refuse(status) => {
            let answer = format!(
                "HTTP/1.1 {status} Refused by policy\r\ncontent-type: text/plain\r\ncontent-length: 18\r\nconnection: close\r\n\r\nrefused by policy\n"
            );
            client.write_all(answer.as_bytes()).await?;
            client.shutdown().await
        }
        Mode::Tunnel(port) => {
            if !first.starts_with("CONNECT ") {
                client
                    .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await?;
                return client.shutdown().await;
            }
            let mut upstream = TcpStream::connect(("127.0.0.1", port)).await?;
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await?;
            tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
            Ok(())
        }
    }
}
