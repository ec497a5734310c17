import { describe, expect, it } from "vitest";
import { classifyFirstBytes } from "./first-bytes.ts";

const bytes = (text: string) => Buffer.from(text, "latin1");

describe("classifyFirstBytes", () => {
  it("sees a TLS ClientHello by its record type", () => {
    expect(classifyFirstBytes(Buffer.from([0x16, 0x03, 0x01]))).toBe("tls");
    expect(classifyFirstBytes(Buffer.from([0x16]))).toBe("tls");
  });

  it("sees the HTTP/2 preface, waiting while a prefix of it is all that arrived", () => {
    expect(classifyFirstBytes(bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00"))).toBe("h2c");
    expect(classifyFirstBytes(bytes("PRI * HTTP/2"))).toBe("need-more");
    expect(classifyFirstBytes(bytes("P"))).toBe("need-more");
    expect(classifyFirstBytes(Buffer.alloc(0))).toBe("need-more");
  });

  it("takes anything else as HTTP/1.1", () => {
    expect(classifyFirstBytes(bytes("GET / HTTP/1.1\r\n"))).toBe("http1");
    expect(classifyFirstBytes(bytes("POST /x"))).toBe("http1");
    expect(classifyFirstBytes(bytes("PRI * HTTP/1.1\r\n\r\n"))).toBe("http1");
  });
});
