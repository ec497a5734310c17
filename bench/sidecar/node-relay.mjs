// The floor under any Node proxy on this machine, measured in the same run as the sidecars: a pair of byte relays
// with the sidecar pair's hops (plaintext in, mutual TLS 1.3 between them, plaintext to the app) and nothing else —
// no HTTP parsing, no routing, no telemetry, one upstream connection per downstream one, bytes piped both ways.
//   node node-relay.mjs client <listenPort> <peerPort> <tlsDir>   (plaintext in, TLS client to the peer)
//   node node-relay.mjs server <listenPort> <appPort> <tlsDir>    (TLS server verifying the client, plaintext out)
// <tlsDir> holds the nginx pair's run-local CA and certificates (nginx.ts makeCertificates).
import { readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import tls from "node:tls";

const [mode, listenPort, targetPort, tlsDir] = process.argv.slice(2);
if ((mode !== "client" && mode !== "server") || !listenPort || !targetPort || !tlsDir) {
  console.error("usage: node node-relay.mjs client|server <listenPort> <targetPort> <tlsDir>");
  process.exit(2);
}
const file = (name) => readFileSync(join(tlsDir, name));
const ca = file("ca.crt");

/** Pipes both ways; either side ending or failing closes the other. */
function relay(downstream, upstream) {
  downstream.setNoDelay(true);
  upstream.setNoDelay(true);
  downstream.pipe(upstream).on("error", () => downstream.destroy());
  upstream.pipe(downstream).on("error", () => upstream.destroy());
  downstream.on("error", () => upstream.destroy()).on("close", () => upstream.destroy());
  upstream.on("error", () => downstream.destroy()).on("close", () => downstream.destroy());
}

const server =
  mode === "client"
    ? net.createServer((socket) => {
        const options = { host: "127.0.0.1", port: Number(targetPort), ca, cert: file("client.crt"), key: file("client.key"), servername: "server.bench", minVersion: "TLSv1.3" };
        relay(socket, tls.connect(options));
      })
    : tls.createServer({ ca, cert: file("server.crt"), key: file("server.key"), requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3" }, (socket) => {
        relay(socket, net.connect({ host: "127.0.0.1", port: Number(targetPort) }));
      });
server.listen(Number(listenPort), "127.0.0.1", () => console.log(`node relay ${mode} on 127.0.0.1:${listenPort} → ${targetPort}`));
process.on("SIGTERM", () => process.exit(0));
