// The sidecar process: read TRELLIS_* env, start the listeners and the config stream, stop cleanly on SIGTERM.
import { runMain } from "@trellis/runtime";
import { readEnv } from "./env.ts";
import { startSidecar } from "./sidecar.ts";

runMain("sidecar", async () => {
  const options = readEnv();
  const sidecar = await startSidecar(options);
  const { ports } = sidecar;
  const listeners =
    options.mode === "gateway"
      ? `gateway ${options.gatewayHost}:${ports.gateway ?? "?"} → ${options.route}`
      : [`inbound 127.0.0.1:${ports.inbound ?? "?"} → app 127.0.0.1:${options.appPort}`, ...Object.entries(ports.upstreams).map(([service, port]) => `${service} 127.0.0.1:${port}`)].join(", ");
  console.log(`sidecar ${options.workload}: ${listeners}; admin http://127.0.0.1:${ports.admin}; control plane ${options.controlPlaneUrl}`);
  return sidecar.stop;
});
