"use client";
// The mesh's sidecars: which config version each runs, whether it caught up with the last push, and whether it is
// still connected to the control plane.
import type { RouterOutputs } from "@trellis/api";

type Sidecar = RouterOutputs["mesh"]["sidecars"][number];

export function SidecarsPanel({ sidecars }: { sidecars: Sidecar[] }) {
  if (sidecars.length === 0) {
    return <p className="empty-note">No sidecars have registered with the control plane yet.</p>;
  }
  return (
    <table className="data-table" data-testid="sidecars-table">
      <thead>
        <tr>
          <th>Service</th>
          <th>Version</th>
          <th className="num">Config</th>
          <th>Acked</th>
          <th>Connected</th>
        </tr>
      </thead>
      <tbody>
        {sidecars.map((sidecar) => (
          <tr key={sidecar.id} data-testid={`sidecar-row-${sidecar.id}`} title={`${sidecar.id} · admin ${sidecar.adminUrl}`}>
            <td>
              <span className="service-name">{sidecar.service}</span>
              {sidecar.mode !== "sidecar" && <span className="muted"> · {sidecar.mode}</span>}
            </td>
            <td>{sidecar.version}</td>
            <td className="num" data-testid="sidecar-config-version">
              {sidecar.configVersion === null ? "—" : `v${sidecar.configVersion}`}
            </td>
            <td data-testid="sidecar-acked">
              <AckState sidecar={sidecar} />
            </td>
            <td data-testid="sidecar-connected">
              <span className={`dot ${sidecar.connected ? "dot-up" : "dot-down"}`} aria-hidden />
              {sidecar.connected ? "yes" : "no"}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AckState({ sidecar }: { sidecar: Sidecar }) {
  if (sidecar.acked) return <span className="level-ok">✓ yes</span>;
  if (sidecar.lastError) {
    return (
      <span className="level-critical" title={sidecar.lastError}>
        ✗ rejected v{sidecar.pushedVersion}
      </span>
    );
  }
  return <span className="level-warning">pending v{sidecar.pushedVersion}</span>;
}
