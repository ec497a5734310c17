// The one import of @peculiar/x509 in the sidecar: reflect-metadata must load before it, and the
// library works on Node's WebCrypto. (The control plane has the same two lines; apps do not import each other.)
// reflect-metadata (tsyringe, inside @peculiar/x509, needs it) is imported first, so it is evaluated first.
import "reflect-metadata";
import type { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
export type * as X509 from "@peculiar/x509";

/** ECDSA P-256 with SHA-256: the key type the mesh CA signs. */
export const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

// The lib config has no DOM types; WebCrypto's come from Node's.
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
