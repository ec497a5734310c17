// The registry and policies indexed once per push: building 200 sidecars' snapshots must not rescan every workload
// for every cluster, nor resolve one workload's mTLS mode once per caller.
import type { MtlsMode, Policy } from "../policy/types.ts";
import { sortRecord } from "../records.ts";
import type { Endpoint, RegisteredWorkload } from "../snapshot.ts";
import { compareStrings, resolveMtlsMode } from "./security.ts";

export type MeshIndex = {
  policies: readonly Policy[];
  /** Connected sidecars (gateways are never endpoints) by `namespace/service`, sorted by id. */
  sidecarsOf: (namespace: string, service: string) => readonly RegisteredWorkload[];
  /** A workload as an endpoint, built once and shared by every snapshot that lists it (snapshots are not mutated). */
  endpointOf: (workload: RegisteredWorkload) => Endpoint;
  /** The PeerAuthentication mode of one workload, resolved once. */
  mtlsModeOf: (workload: RegisteredWorkload) => MtlsMode;
};

export function indexMesh(workloads: readonly RegisteredWorkload[], policies: readonly Policy[]): MeshIndex {
  const sidecars = new Map<string, RegisteredWorkload[]>();
  for (const w of workloads) {
    if (w.mode !== "sidecar") continue;
    const key = `${w.namespace}/${w.service}`;
    const list = sidecars.get(key);
    if (list === undefined) sidecars.set(key, [w]);
    else list.push(w);
  }
  for (const list of sidecars.values()) list.sort((a, b) => compareStrings(a.id, b.id));
  const modes = new Map<string, MtlsMode>();
  const endpoints = new Map<string, Endpoint>();
  return {
    policies,
    sidecarsOf: (namespace, service) => sidecars.get(`${namespace}/${service}`) ?? [],
    endpointOf(w) {
      let endpoint = endpoints.get(w.id);
      if (endpoint === undefined) {
        endpoint = { address: w.address, workloadId: w.id, version: w.version, labels: sortRecord(w.labels) };
        endpoints.set(w.id, endpoint);
      }
      return endpoint;
    },
    mtlsModeOf(workload) {
      let mode = modes.get(workload.id);
      if (mode === undefined) {
        mode = resolveMtlsMode({ namespace: workload.namespace, labels: workloadLabels(workload) }, policies);
        modes.set(workload.id, mode);
      }
      return mode;
    },
  };
}

/** The registry's labels, with `version` from the registration when the labels leave it out. */
export function workloadLabels(w: RegisteredWorkload): Record<string, string> {
  return { version: w.version, ...w.labels };
}
