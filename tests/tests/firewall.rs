//! The shipped nftables ruleset, loaded into a network namespace the test makes, with a peer in
//! a second namespace across a veth pair: what the sets do not name is dropped and counted, what
//! they name gets through.

// Helpers of a test fail the test by panicking, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nix::sched::{CloneFlags, setns};

const APPLIANCE: &str = "10.231.0.1";
const PEER: &str = "10.231.0.2";
// How long a connection attempt may take before it counts as dropped. The peer is one veth hop
// away, so a packet that is let through is answered in well under a millisecond.
const DROPPED_AFTER: Duration = Duration::from_secs(2);

fn ruleset() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../firmware-config/nftables/diala-edge.nft")
        .display()
        .to_string()
}

fn ip(args: &[&str]) {
    let status = Command::new("ip")
        .args(args)
        .status()
        .expect("ip (Debian package iproute2)");
    assert!(status.success(), "ip {args:?}");
}

fn nft(namespace: &str, args: &[&str]) -> String {
    let output = Command::new("ip")
        .args(["netns", "exec", namespace, "nft"])
        .args(args)
        .output()
        .expect("nft (Debian package nftables)");
    assert!(
        output.status.success(),
        "nft {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Two namespaces joined by a veth pair; removed when dropped.
struct Network {
    appliance: String,
    peer: String,
}

impl Network {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let id = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let network = Network {
            appliance: format!("de-app-{id}"),
            peer: format!("de-peer-{id}"),
        };
        ip(&["netns", "add", &network.appliance]);
        ip(&["netns", "add", &network.peer]);
        let suffix = id.replace('-', "");
        let (a, b) = (format!("dea{suffix}"), format!("deb{suffix}"));
        ip(&["link", "add", &a, "type", "veth", "peer", "name", &b]);
        ip(&["link", "set", &a, "netns", &network.appliance]);
        ip(&["link", "set", &b, "netns", &network.peer]);
        for (ns, dev, addr) in [
            (&network.appliance, &a, APPLIANCE),
            (&network.peer, &b, PEER),
        ] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        network
    }

    /// Runs `work` on a thread that lives in `namespace`.
    fn inside<T: Send + 'static>(namespace: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
        let handle = File::open(format!("/run/netns/{namespace}")).unwrap();
        std::thread::spawn(move || {
            setns(&handle, CloneFlags::CLONE_NEWNET).unwrap();
            work()
        })
        .join()
        .unwrap()
    }

    fn refused(&self, counter: &str) -> u64 {
        let listing = nft(
            &self.appliance,
            &["list", "counter", "inet", "diala_edge", counter],
        );
        let packets = listing
            .split("packets ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next());
        packets
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{listing}"))
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for ns in [&self.appliance, &self.peer] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn connects(network: &Network, to: SocketAddr) -> bool {
    Network::inside(&network.appliance, move || {
        TcpStream::connect_timeout(&to, DROPPED_AFTER).is_ok()
    })
}

#[test]
fn the_ruleset_drops_what_it_does_not_name_and_lets_named_peers_through() {
    if !nix::unistd::Uid::effective().is_root() {
        panic!("network namespaces need root (CI runs as root)");
    }
    let network = Network::new();
    nft(&network.appliance, &["-f", &ruleset()]);

    // Outbound HTTPS to a peer the ruleset does not name: dropped and counted.
    let peer_https: SocketAddr = format!("{PEER}:443").parse().unwrap();
    let listener = Network::inside(&network.peer, move || {
        TcpListener::bind(peer_https).unwrap()
    });
    assert!(
        !connects(&network, peer_https),
        "egress to an unnamed peer must be dropped"
    );
    assert!(network.refused("refused_out") > 0);

    // Named as an HTTPS peer (an AWS endpoint, say), it gets through.
    nft(
        &network.appliance,
        &[
            "add",
            "element",
            "inet",
            "diala_edge",
            "https_peers_v4",
            &format!("{{ {PEER} }}"),
        ],
    );
    assert!(
        connects(&network, peer_https),
        "egress to a named peer must pass"
    );
    drop(listener);

    // Inbound SIP from a source that is not a trunk: dropped; from a trunk: delivered.
    let sip: SocketAddr = format!("{APPLIANCE}:5060").parse().unwrap();
    let socket = Network::inside(&network.appliance, move || UdpSocket::bind(sip).unwrap());
    socket.set_read_timeout(Some(DROPPED_AFTER)).unwrap();
    let send_options = move || {
        let from = UdpSocket::bind(format!("{PEER}:0")).unwrap();
        from.send_to(b"OPTIONS sip:edge SIP/2.0\r\n\r\n", sip)
            .unwrap();
    };
    let before = network.refused("refused_in");
    Network::inside(&network.peer, send_options);
    let mut buf = [0u8; 512];
    assert!(
        socket.recv_from(&mut buf).is_err(),
        "SIP from a non-trunk source must be dropped"
    );
    assert!(network.refused("refused_in") > before);

    nft(
        &network.appliance,
        &[
            "add",
            "element",
            "inet",
            "diala_edge",
            "trunk_v4",
            &format!("{{ {PEER} }}"),
        ],
    );
    Network::inside(&network.peer, send_options);
    let (n, _) = socket
        .recv_from(&mut buf)
        .expect("SIP from a trunk must be delivered");
    assert!(buf[..n].starts_with(b"OPTIONS"));
}

#[test]
fn loading_the_ruleset_again_replaces_it() {
    let network = Network::new();
    nft(&network.appliance, &["-f", &ruleset()]);
    let first = nft(&network.appliance, &["list", "table", "inet", "diala_edge"]);
    nft(&network.appliance, &["-f", &ruleset()]);
    let second = nft(&network.appliance, &["list", "table", "inet", "diala_edge"]);
    assert_eq!(
        first, second,
        "a reload must replace the table, not add to it"
    );
}
