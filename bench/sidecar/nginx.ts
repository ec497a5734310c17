// The nginx side of the sidecar benchmark: the upstream app (nginx serving a 1 KB file, so the app is never the
// bottleneck and is the same for every path) and the peer proxy pair, nginx → mutual TLS → nginx, with a CA and
// certificates made by openssl for this run only.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findFreePort } from "@trellis/db";
import { distinctFreePorts, startChild, TOOLS, waitUntil, type Child } from "./processes.ts";

export const BODY_BYTES = 1024;
export const BODY_PATH = "/1k";

/** Settings every nginx here shares: foreground, no access log, temp files in the run's directory, long keep-alive. */
function nginxConfig(dir: string, name: string, workers: number, http: string): string {
  return `daemon off;
master_process on;
worker_processes ${workers};
pid ${dir}/${name}.pid;
error_log ${dir}/${name}.error.log warn;
user root;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/${name}-body;
  proxy_temp_path ${dir}/${name}-proxy;
  fastcgi_temp_path ${dir}/${name}-fastcgi;
  uwsgi_temp_path ${dir}/${name}-uwsgi;
  scgi_temp_path ${dir}/${name}-scgi;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
${http}
}
`;
}

function startNginx(dir: string, name: string, config: string, cpu: number | undefined): Child {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, config);
  const test = spawnSync(TOOLS.nginx, ["-t", "-q", "-c", file], { encoding: "utf8" });
  if (test.status !== 0) throw new Error(`nginx rejected ${file}: ${test.stderr}`);
  return startChild(`nginx ${name}`, TOOLS.nginx, ["-c", file], { cpu, logFile: join(dir, `${name}.log`) });
}

async function waitForBody(url: string): Promise<void> {
  await waitUntil(`${url} to answer 200`, async () => (await fetch(url)).ok, 10_000);
}

/** The app every path ends at: nginx with two workers (its own share of the machine) answering 1 KB from a file. */
export async function startApp(dir: string): Promise<{ port: number; child: Child }> {
  const root = join(dir, "www");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, BODY_PATH.slice(1)), "x".repeat(BODY_BYTES));
  const port = await findFreePort();
  const child = startNginx(dir, "app", nginxConfig(dir, "app", 2, `  server {\n    listen 127.0.0.1:${port} reuseport backlog=4096;\n    root ${root};\n    default_type text/plain;\n  }`), undefined);
  try {
    await waitForBody(`http://127.0.0.1:${port}${BODY_PATH}`);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { port, child };
}

type Certificates = { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };

/** A throwaway CA and two leaf certificates (ECDSA P-256, as the mesh CA issues) for the nginx pair's mutual TLS. */
export function makeCertificates(dir: string): Certificates {
  const tls = join(dir, "tls");
  mkdirSync(tls, { recursive: true });
  const openssl = (...args: string[]) => {
    const result = spawnSync(TOOLS.openssl, args, { cwd: tls, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=trellis bench CA");
  for (const name of ["server", "client"]) {
    writeFileSync(join(tls, `${name}.ext`), `subjectAltName=DNS:${name}.bench\nextendedKeyUsage=${name === "server" ? "serverAuth" : "clientAuth"}\n`);
    openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}.bench`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`);
  }
  return {
    ca: join(tls, "ca.crt"),
    serverCert: join(tls, "server.crt"),
    serverKey: join(tls, "server.key"),
    clientCert: join(tls, "client.crt"),
    clientKey: join(tls, "client.key"),
  };
}

export type NginxPair = { port: number; client: Child; server: Child };

/**
 * The peer: a client-side nginx (what the app calls, plaintext on loopback) proxying over kept-alive mutual TLS to
 * a server-side nginx that verifies the client certificate and proxies to the app over kept-alive HTTP — the same
 * hops as a sidecar pair. One worker each, pinned to the given cores, as the sidecars are.
 */
export async function startNginxPair(dir: string, appPort: number, cpus: [number, number]): Promise<NginxPair> {
  const certs = makeCertificates(dir);
  const [clientPort, serverPort] = await distinctFreePorts(2);
  const server = startNginx(
    dir,
    "peer-server",
    nginxConfig(
      dir,
      "peer-server",
      1,
      `  upstream app { server 127.0.0.1:${appPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${serverPort} ssl backlog=4096;
    ssl_certificate ${certs.serverCert};
    ssl_certificate_key ${certs.serverKey};
    ssl_client_certificate ${certs.ca};
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`,
    ),
    cpus[1],
  );
  const client = startNginx(
    dir,
    "peer-client",
    nginxConfig(
      dir,
      "peer-client",
      1,
      `  upstream peer { server 127.0.0.1:${serverPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${clientPort} backlog=4096;
    location / {
      proxy_pass https://peer;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_certificate ${certs.clientCert};
      proxy_ssl_certificate_key ${certs.clientKey};
      proxy_ssl_trusted_certificate ${certs.ca};
      proxy_ssl_verify on;
      proxy_ssl_name server.bench;
      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_session_reuse on;
    }
  }`,
    ),
    cpus[0],
  );
  try {
    await waitForBody(`http://127.0.0.1:${clientPort}${BODY_PATH}`);
  } catch (error) {
    await Promise.all([client.stop(), server.stop()]); // not yet in the caller's cleanups
    throw error;
  }
  return { port: clientPort, client, server };
}
