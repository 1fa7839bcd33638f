//! The codec ceiling over a real socket: its server answers as `Hello.Say` does, in frames
//! of the sizes teleport writes, and closes a connection that sends a bad frame.

use bytes::{Bytes, BytesMut};
use teleport::codec::{self, Protobuf, encode_to_bytes};
use teleport::{Message, MessageType, Proto, RawProto};
use teleport_bench::ceiling::{self, Front, Head};
use teleport_bench::hello::HelloClient;
use teleport_bench::message::{BenchmarkMessage, NUMBER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A frame as teleport's raw protocol writes it, with `body` in protobuf.
fn teleport_frame(mtype: MessageType, method: &str, body: &BenchmarkMessage) -> Bytes {
    let mut msg = Message::new(mtype, 1, method);
    msg.body_codec = codec::PROTOBUF;
    msg.body = encode_to_bytes(&Protobuf(body.clone()), codec::PROTOBUF).unwrap();
    let mut frame = BytesMut::new();
    RawProto::default().encode(&msg, &mut frame).unwrap();
    frame.freeze()
}

/// A codec ceiling server on a loopback port; the task ends with its one connection.
async fn server() -> (TcpStream, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        ceiling::answer(stream).await;
    });
    (TcpStream::connect(addr).await.unwrap(), task)
}

#[test]
fn frames_are_the_frames_teleport_writes() {
    let request = BenchmarkMessage::client();
    let mut answer = request.clone();
    answer.answer();
    let mut call = BytesMut::new();
    Head::call().unwrap().encode(&request, &mut call).unwrap();
    assert_eq!(call, teleport_frame(MessageType::Call, HelloClient::SAY, &request));
    let mut reply = BytesMut::new();
    Head::reply().unwrap().encode(&answer, &mut reply).unwrap();
    assert_eq!(reply, teleport_frame(MessageType::Reply, "", &answer));
    assert_eq!(ceiling::front(&reply), Front::Whole(reply.len()));
    assert_eq!(ceiling::front(&reply[..reply.len() - 1]), Front::Partial);
    assert_eq!(Head::reply().unwrap().decode(&reply), Some(answer));
    assert_eq!(Head::call().unwrap().decode(&reply), None, "a reply is no call");
}

#[tokio::test]
async fn server_answers_every_call_of_a_read() {
    let (mut stream, task) = server().await;
    let (call, reply) = (Head::call().unwrap(), Head::reply().unwrap());
    let mut out = BytesMut::new();
    for _ in 0..3 {
        call.encode(&BenchmarkMessage::client(), &mut out).unwrap();
    }
    stream.write_all(&out).await.unwrap();
    let mut buf = BytesMut::new();
    for _ in 0..3 {
        let len = ceiling::read_frame(&mut stream, &mut buf, 1024).await.unwrap();
        let msg = reply.decode(&buf[..len]).unwrap();
        assert_eq!((msg.field1.as_str(), msg.field2, msg.field3), ("OK", 100, NUMBER));
        assert_eq!(len, teleport_frame(MessageType::Reply, "", &msg).len());
        let _ = buf.split_to(len);
    }
    drop(stream);
    task.await.unwrap();
}

#[tokio::test]
async fn server_closes_on_a_bad_frame() {
    for bad in [
        &[0u8, 0, 0, 3][..],
        &[
            0, 0, 0, 30, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
            22, 23, 24, 25, 26,
        ],
    ] {
        let (mut stream, task) = server().await;
        stream.write_all(bad).await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(stream.read_to_end(&mut rest).await.unwrap(), 0, "no reply, then closed");
        task.await.unwrap();
    }
}
