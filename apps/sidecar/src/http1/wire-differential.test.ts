// Differential test of the request codec against Node's own HTTP server (llhttp + IncomingMessage). The engine keeps
// a request only when parseRequestHead accepts it; everything else goes to Node. So every head it accepts must mean
// the same to Node: same method, url, headers object, keep-alive and body framing, or the two disagree about where a
// request ends (smuggling) or what it says. Each case is sent, with its body and then a sentinel request, to a real
// http.createServer on 127.0.0.1; if Node frames the body differently the sentinel arrives mangled or not at all.
import http, { type IncomingHttpHeaders } from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChunkedDecoder } from "./chunked.ts";
import { FALLBACK, INCOMPLETE, parseRequestHead } from "./wire.ts";

type NodeRequest = { method: string; url: string; headers: IncomingHttpHeaders; keepAlive: boolean; body: string; complete: boolean };
/** What Node made of one connection's bytes. */
type NodeView = { requests: NodeRequest[]; error?: string; response: string };

const SENTINEL = "GET /__sentinel HTTP/1.1\r\nHost: sentinel\r\nConnection: close\r\n\r\n";
/** A Content-Length larger than this is not sent; Node answers at once and only the head is compared. */
const MAX_SENT_BODY = 64 * 1024;
/** Only a case where Node waits for bytes that never come (it frames the body longer) runs into this. */
const CASE_TIMEOUT_MS = 3000;

let server: http.Server;
let port = 0;
/** Per client port, what the server saw on that connection. */
const seen = new Map<number, NodeView>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const view = seen.get(req.socket.remotePort ?? -1);
    const request: NodeRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, keepAlive: res.shouldKeepAlive, body: "", complete: false };
    view?.requests.push(request);
    if (Number(req.headers["content-length"]) > MAX_SENT_BODY) {
      res.setHeader("connection", "close");
      res.end("big");
      return;
    }
    req.setEncoding("latin1");
    req.on("data", (data: string) => (request.body += data));
    req.on("end", () => {
      request.complete = true;
      res.end("ok");
    });
  });
  server.on("connection", (socket: net.Socket) => seen.set(socket.remotePort ?? -1, { requests: [], response: "" }));
  server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
    const view = seen.get(socket.remotePort ?? -1);
    if (view) view.error = error.code ?? error.message;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends `bytes` on a fresh connection (left open for writing: a half-close makes Node abort the request) and waits until Node closes it. */
function sendToNode(bytes: Buffer): Promise<NodeView> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let response = "";
    let localPort = -1;
    const timer = setTimeout(() => socket.destroy(), CASE_TIMEOUT_MS);
    socket.on("connect", () => {
      localPort = socket.localPort ?? -1;
      socket.write(bytes);
    });
    socket.on("data", (data) => (response += data.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      const view = seen.get(localPort) ?? { requests: [], error: "no connection seen" };
      seen.delete(localPort);
      resolve({ ...view, response });
    });
  });
}

/** Runs `work` over `items` with a few connections in flight at once. */
async function inParallel<T, R>(items: T[], work: (item: T) => Promise<R>, width = 16): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

const CHUNKED_BODY = "4\r\nwxyz\r\n3\r\nabc\r\n0\r\n\r\n";

/** Node's view of a head parseRequestHead accepted, as a list of disagreements ([] when Node means the same). */
async function compareWithNode(text: string): Promise<string[]> {
  const head = parseRequestHead(Buffer.from(text, "latin1"));
  // FALLBACK is always safe: Node's own server takes the connection and decides.
  if (head === FALLBACK) return [];
  if (typeof head === "number") return ["parseRequestHead found the head INCOMPLETE"];
  const sendsBody = head.body === "chunked" || head.body <= MAX_SENT_BODY;
  const body = head.body === "chunked" ? CHUNKED_BODY : sendsBody ? "b".repeat(head.body) : "";
  const decoded = head.body === "chunked" ? "wxyzabc" : body;
  // After Connection: close Node refuses further bytes (HPE_CLOSED_CONNECTION), so no sentinel then.
  const view = await sendToNode(Buffer.from(text.slice(0, head.headBytes) + body + (head.close ? "" : SENTINEL), "latin1"));
  const first = view.requests[0];
  if (first === undefined || first.url === "/__sentinel") {
    // Node answered the request itself (e.g. 400 for a missing Host) or its parser refused the bytes.
    const answer = view.response.split("\r\n").find((line) => line.startsWith("HTTP/") && !line.startsWith("HTTP/1.1 100"));
    return [`Node refused it: ${view.error ?? answer ?? "no answer"}`];
  }
  const problems: string[] = [];
  if (first.method !== head.method) problems.push(`method: wire ${head.method}, Node ${first.method}`);
  if (first.url !== head.url) problems.push(`url: wire ${JSON.stringify(head.url)}, Node ${JSON.stringify(first.url)}`);
  if (!isDeepStrictEqual(first.headers, head.headers)) problems.push(`headers: ${describeHeaderDifference(head.headers, first.headers)}`);
  if (first.keepAlive === head.close) problems.push(`keep-alive: wire close=${head.close}, Node keepAlive=${first.keepAlive}`);
  if (view.error !== undefined) problems.push(`Node then failed: ${view.error}`);
  if (sendsBody) {
    if (!first.complete || first.body !== decoded) problems.push(`body: wire ${JSON.stringify(head.body)} (${decoded.length} bytes), Node read ${first.body.length} bytes, complete=${first.complete}`);
    const after = view.requests.slice(1).map((request) => request.url);
    if (!head.close && !isDeepStrictEqual(after, ["/__sentinel"])) problems.push(`framing: after the body Node saw requests ${JSON.stringify(after)}`);
  }
  return problems;
}

/** The headers that differ, values clipped (a thousand repeated lines make a long value). */
function describeHeaderDifference(wire: IncomingHttpHeaders, node: IncomingHttpHeaders): string {
  const show = (value: unknown) => {
    const text = JSON.stringify(value) ?? "undefined";
    return text.length > 80 ? `${text.slice(0, 60)}…(${text.length} chars)` : text;
  };
  const names = [...new Set([...Object.keys(wire), ...Object.keys(node)])];
  return names
    .filter((name) => !isDeepStrictEqual(wire[name], node[name]))
    .map((name) => `${name}: wire ${show(wire[name])}, Node ${show(node[name])}`)
    .join("; ");
}

/** Deterministic PRNG (mulberry32), so a failure names a reproducible input. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Random = ReturnType<typeof createRandom>;

const METHODS = ["GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "QUERY", "SEARCH", "PURGE", "MKCOL", "FOO", "PRI", "DESCRIBE", "get", "Get", "M-SEARCH", "CONNECT"];
const TARGETS = ["/", "/a", "/a/b?c=d&e=f", "/a#frag", "//double", "/%00%ff", "/a/../b", "/{}|\\^`\"<>", "/;p=1", "/?", "*", "http://h/", "/a b", "/\x7f", "/\xe4", "/~!$&'()*+,;=:@"];
const NAMES = ["Host", "Accept", "User-Agent", "Cookie", "Set-Cookie", "X-Custom", "Authorization", "Content-Type", "Accept-Language", "X-Forwarded-For", "Date", "Vary", "Origin", "If-None-Match", "Referer", "From", "TE", "Trailer", "Keep-Alive", "Via", "constructor", "__proto__", "x_under", "a"];
const VALUES = ["v", "a, b", "a=1; b=2", "", " spaced ", "\t", "caf\xe9", "\xff\x80", "\"quoted\"", "x".repeat(40), "*/*", "100-continue", "close", "chunked", "0", "1;2"];
const LENGTHS = ["0", "5", "12", "005", " 7", "7 ", "\t3\t", "+5", "-5", "5,5", "5, 5", "0x5", "1e3", "", "999999999999999", "9999999999999999", "5 5", "\xb5"];
const CODINGS = ["chunked", "Chunked", "CHUNKED", " chunked", "chunked ", "chunked,", ", chunked", "gzip, chunked", "chunked, gzip", "identity", "chunked;x=1", "chunk", "xchunked", "chunked\t", "\"chunked\""];
const CONNECTIONS = ["close", "Close", "keep-alive", "close, keep-alive", "keep-alive,close", ",close", "closex", "close x", "close;x", "upgrade", "Upgrade, close", "TE", "\"close\""];
const EXPECTS = ["100-continue", "100-Continue", "100-continue ", "101-continue", "", "100-continue, 100-continue"];
const RAW_BYTES = ["\r", "\n", "\r\n", "\x00", "\t", " ", "\x7f", "\x80", "\xff", ":", ",", "\x0b", "\r\n "];

type Draft = { method: string; target: string; version: string; fields: [string, string][]; separators: string[] };

function generateHead(random: Random): string {
  const draft: Draft = { method: "GET", target: random.pick(TARGETS.slice(0, 5)), version: "HTTP/1.1", fields: [["Host", "svc.local"]], separators: [] };
  for (let n = random.int(4); n > 0; n -= 1) draft.fields.push([random.pick(NAMES.slice(1)), random.pick(VALUES)]);
  if (random.chance(0.3)) {
    draft.method = "POST";
    draft.fields.push(["Content-Length", String(random.int(40))]);
  } else if (random.chance(0.2)) {
    draft.method = "POST";
    draft.fields.push(["Transfer-Encoding", "chunked"]);
  }
  for (let n = 1 + random.int(3); n > 0; n -= 1) mutateDraft(random, draft);
  if (draft.fields.length > 1 && random.chance(0.2)) {
    const [a, b] = [random.int(draft.fields.length), random.int(draft.fields.length)];
    [draft.fields[a], draft.fields[b]] = [draft.fields[b] as [string, string], draft.fields[a] as [string, string]];
  }
  let text = `${draft.method} ${draft.target} ${draft.version}\r\n`;
  draft.fields.forEach(([name, value], index) => (text += `${name}:${draft.separators[index] ?? " "}${value}\r\n`));
  text += "\r\n";
  return random.chance(0.12) ? insertRawByte(random, text) : text;
}

function mutateDraft(random: Random, draft: Draft): void {
  const field = () => draft.fields[random.int(draft.fields.length)];
  switch (random.int(14)) {
    case 0: {
      for (const entry of draft.fields) entry[0] = [...entry[0]].map((c) => (random.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join("");
      return;
    }
    case 1: {
      draft.separators = draft.fields.map(() => random.pick(["", " ", "\t", "  \t", " \t "]));
      for (const entry of draft.fields) if (random.chance(0.3)) entry[1] += random.pick([" ", "\t", " \t"]);
      return;
    }
    case 2: {
      const entry = field();
      if (entry) draft.fields.push([random.chance(0.5) ? entry[0].toUpperCase() : entry[0], random.chance(0.5) ? entry[1] : random.pick(VALUES)]);
      return;
    }
    case 3:
      draft.method = random.pick(METHODS);
      return;
    case 4:
      draft.target = random.pick(TARGETS);
      return;
    case 5:
      draft.fields.push([random.pick(["Content-Length", "content-length", "Content-length"]), random.pick(LENGTHS)]);
      return;
    case 6:
      draft.fields.push([random.pick(["Transfer-Encoding", "transfer-encoding"]), random.pick(CODINGS)]);
      return;
    case 7:
      draft.fields.push(["Connection", random.pick(CONNECTIONS)]);
      return;
    case 8:
      draft.fields.push(["Expect", random.pick(EXPECTS)]);
      return;
    case 9:
      draft.fields.splice(random.int(draft.fields.length), 1);
      return;
    case 10:
      draft.fields.push(random.pick<[string, string]>([["Upgrade", "websocket"], ["HTTP2-Settings", "AAMAAABk"], ["Host", "other"], ["Host", ""], ["Name With Space", "v"], ["X-Fold", "a\r\n b"]]));
      return;
    case 11:
      draft.version = random.pick(["HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "http/1.1", "HTTP/2.0", "HTTP/1.1 "]);
      return;
    case 12: {
      const entry = field();
      if (entry) entry[1] = insertRawByte(random, entry[1]);
      return;
    }
    default:
      draft.fields.push([random.pick(NAMES), random.pick(VALUES)]);
  }
}

function insertRawByte(random: Random, text: string): string {
  const at = random.int(text.length + 1);
  return text.slice(0, at) + random.pick(RAW_BYTES) + text.slice(at);
}

/** Findings grouped by kind of disagreement (e.g. "Node refused it: HPE_INVALID_METHOD"), a few inputs each. */
function formatFindings(findings: { input: string; problems: string[] }[]): string {
  const groups = new Map<string, { input: string; problems: string[] }[]>();
  for (const finding of findings) {
    const kind = finding.problems.map((problem) => problem.split(/[,(]/)[0]).join(" + ");
    groups.set(kind, [...(groups.get(kind) ?? []), finding]);
  }
  const lines = [...groups].map(([kind, group]) => {
    const examples = group.slice(0, 3).map(({ input, problems }) => `    ${JSON.stringify(input)}\n      ${problems.join("\n      ")}`);
    return `  ${kind} (${group.length}):\n${examples.join("\n")}`;
  });
  return `${findings.length} input(s) mean something else to Node:\n${lines.join("\n")}`;
}

describe("parseRequestHead against Node's parser", () => {
  it("accepts only heads that mean the same to Node (random heads)", async () => {
    const random = createRandom(0x7e11150);
    const heads = Array.from({ length: 3000 }, () => generateHead(random));
    const accepted = heads.filter((text) => typeof parseRequestHead(Buffer.from(text, "latin1")) === "object");
    const fallbacks = heads.filter((text) => parseRequestHead(Buffer.from(text, "latin1")) === FALLBACK).length;
    // The generator must exercise both sides, and every kind of framing.
    expect(accepted.length).toBeGreaterThan(600);
    expect(fallbacks).toBeGreaterThan(800);
    expect(heads.filter((text) => parseRequestHead(Buffer.from(text, "latin1")) === INCOMPLETE)).toEqual([]);
    const framings = new Set(accepted.map((text) => describeFraming(text)));
    expect([...framings].sort()).toEqual(["chunked", "empty", "sized"]);

    const results = await inParallel(accepted, async (input) => ({ input, problems: await compareWithNode(input) }));
    const findings = results.filter((result) => result.problems.length > 0);
    expect(findings.length, formatFindings(findings)).toBe(0);
  }, 20_000);

  it.each([
    ["set-cookie as a list, cookie with '; ', others with ', '", "GET / HTTP/1.1\r\nHost: h\r\nSet-Cookie: a=1\r\nCookie: a=1\r\nAccept: x\r\nset-cookie: b=2\r\ncookie: b=2\r\nACCEPT: y\r\nSet-Cookie: c=3\r\n\r\n"],
    ["empty values", "GET / HTTP/1.1\r\nHost: h\r\nX-E:\r\nX-E:\r\nX-E: z\r\n\r\n"],
    ["headers Node prefixes specially (Date, Vary, Origin…)", "GET / HTTP/1.1\r\nHost: h\r\nDate: a\r\nDate: b\r\nVary: a\r\nvary: b\r\nOrigin: a\r\nOrigin: b\r\nX-Forwarded-For: 1\r\nX-Forwarded-For: 2\r\n\r\n"],
    ["a header named after an Object.prototype property", "GET / HTTP/1.1\r\nHost: h\r\nconstructor: v\r\n\r\n"],
    ["__proto__ as a header name", "GET / HTTP/1.1\r\nHost: h\r\n__proto__: v\r\n__proto__: w\r\n\r\n"],
    ["more header lines than Node keeps (1000)", `GET / HTTP/1.1\r\nHost: h\r\n${"X-Filler: 1\r\n".repeat(999)}Authorization: Bearer late\r\n\r\n`],
  ])("joins repeated headers like IncomingMessage: %s", async (_, text) => {
    expect(await compareWithNode(text)).toEqual([]);
  });

  it.each([
    ["no Host (Node's server answers 400)", "GET / HTTP/1.1\r\n\r\n"],
    ["an empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n"],
    ["an unknown method (llhttp: HPE_INVALID_METHOD)", "FOO / HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["PRI outside the HTTP/2 preface", "PRI / HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["an RTSP method", "DESCRIBE / HTTP/1.1\r\nHost: h\r\n\r\n"],
    ["a method Node knows", "PROPFIND /dav HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"],
    ["Expect: 100-continue with a body", "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"],
    ["the largest Content-Length it takes", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999999999\r\n\r\n"],
    ["Connection tokens", "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, x-hop ,close\r\n\r\n"],
    ["Content-Length with a trailing space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 \r\n\r\n"],
    ["Content-Length with a trailing tab (llhttp: HPE_INVALID_CONTENT_LENGTH)", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\t\r\n\r\n"],
    ["Transfer-Encoding with a trailing tab (llhttp: HPE_INVALID_TRANSFER_ENCODING)", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\t\r\n\r\n"],
    ["Connection: close with a trailing tab (llhttp keeps the connection alive)", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\t\r\n\r\n"],
  ])("means the same to Node: %s", async (_, text) => {
    expect(await compareWithNode(text)).toEqual([]);
  });
});

function describeFraming(text: string): string {
  const head = parseRequestHead(Buffer.from(text, "latin1"));
  if (typeof head === "number") return "miss";
  return head.body === "chunked" ? "chunked" : head.body === 0 ? "empty" : "sized";
}

const CHUNKED_HEAD = "POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
const EXTENSIONS = [";a", ";a=b", ";a=\"q x\"", ";a=b;c", "; a", ";", ";a=\"b", ";a=\x80", ";a=\x7f", " ", "\t", " ;a", ";a=\"\\\"\""];
const TRAILERS = ["X-T: 1\r\n", "X-T:\r\n", "garbage\r\n", " folded\r\n", "X-T: \x80\r\n", "Content-Length: 5\r\n"];

function generateChunkedBody(random: Random): string {
  let body = "";
  for (let n = random.int(4); n > 0; n -= 1) {
    const data = Array.from({ length: random.int(12) + 1 }, () => random.pick(["a", "b", "\r", "\n", "0", "\r\n"])).join("");
    const size = Buffer.byteLength(data, "latin1").toString(16);
    const line = random.chance(0.2) ? `00${size.toUpperCase()}` : size;
    body += `${line}${random.chance(0.25) ? random.pick(EXTENSIONS) : ""}\r\n${data}\r\n`;
  }
  body += `0${random.chance(0.2) ? random.pick(EXTENSIONS) : ""}\r\n${random.chance(0.25) ? random.pick(TRAILERS) : ""}\r\n`;
  return random.chance(0.15) ? insertRawByte(random, body) : body;
}

/** The decoder's reading of `body`: the message's data and length, or null if broken or unfinished. */
function decodeChunked(body: string): { data: string; length: number } | null {
  const decoder = createChunkedDecoder();
  let data = "";
  const length = decoder.feed(Buffer.from(body, "latin1"), 0, (chunk) => (data += chunk.toString("latin1")));
  return length >= 0 && decoder.done() ? { data, length } : null;
}

describe("createChunkedDecoder against Node's parser", () => {
  const random = createRandom(0xc4c4);
  const bodies = Array.from({ length: 400 }, () => generateChunkedBody(random));
  const decoded = bodies.flatMap((body) => {
    const result = decodeChunked(body);
    return result ? [{ body: body.slice(0, result.length), data: result.data }] : [];
  });
  let views: NodeView[] = [];

  beforeAll(async () => {
    views = await inParallel(decoded, ({ body }) => sendToNode(Buffer.from(CHUNKED_HEAD + body + SENTINEL, "latin1")));
  }, 20_000);

  it("ends each body where Node does, with the same data, whenever Node takes it", () => {
    expect(decoded.length).toBeGreaterThan(150);
    const findings = decoded.flatMap(({ body, data }, index) => {
      const view = views[index];
      if (!view || view.error !== undefined || view.requests.length === 0) return [];
      const first = view.requests[0];
      const after = view.requests.slice(1).map((request) => request.url);
      if (first?.complete && first.body === data && isDeepStrictEqual(after, ["/__sentinel"])) return [];
      return [{ input: body, problems: [`decoder: ${JSON.stringify(data)}; Node: ${JSON.stringify(first?.body)} then ${JSON.stringify(after)}`] }];
    });
    expect(findings.length, formatFindings(findings)).toBe(0);
  });

  // Less grave than a head: the engine re-frames the body it forwards, so upstream never sees these bytes. But Node
  // would have answered 400 where the engine forwards.
  it("accepts no chunked body Node refuses", () => {
    const refused = decoded.flatMap(({ body }, index) => {
      const view = views[index];
      return view && (view.error !== undefined || view.requests.length === 0) ? [{ input: body, problems: [`Node: ${view.error ?? "no request"}`] }] : [];
    });
    expect(refused.length, formatFindings(refused)).toBe(0);
  });
});
