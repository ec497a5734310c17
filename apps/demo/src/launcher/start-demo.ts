// The demo launcher: starts every app with its sidecar and the gateway, waits until a request through the gateway
// succeeds, then drives load. Returns the stop that takes all of it down again.
import { AppError, type Stop } from "@trellis/runtime";
import type { DemoEnv } from "../env.ts";
import { startLoad, type LoadGenerator } from "../load/load-generator.ts";
import { listPlannedPorts, planDemo, type PlannedInstance } from "../port-plan.ts";
import { buildAppCommand, buildGatewayCommand, buildSidecarCommand, DEMO_NAMESPACE, instanceLabel, type CommandContext } from "./commands.ts";
import { requestJoinTokens } from "./join-tokens.ts";
import { applySeedPoliciesOnce } from "./seed-policies.ts";
import { checkPortsFree, checkPython, checkSidecarBuilt } from "./preflight.ts";
import { describeExit, signalChild, spawnChild, stopChildren, type ManagedChild } from "./processes.ts";
import { waitForOk } from "./readiness.ts";

const readyTimeoutMs = 90_000;

export type DemoContext = Omit<CommandContext, "sidecarEntry" | "python" | "catalogScript" | "controlPlaneUrl" | "otlpEndpoint" | "joinTokens">;

export async function startDemo(env: DemoEnv, context: DemoContext): Promise<Stop> {
  const plan = planDemo({ portBase: env.portBase, adminBase: env.adminBase, gatewayPort: env.gatewayPort });
  checkPython(env.python);
  await checkPortsFree(listPlannedPorts(plan));
  checkSidecarBuilt(env.sidecarEntry);
  // `trellis up` hands the launcher the join secret; then every sidecar gets a token for its own service.
  const joinSecret = context.inheritedEnv.TRELLIS_JOIN_SECRET;
  const joinTokens = joinSecret
    ? await requestJoinTokens({
        controlPlaneUrl: env.controlPlaneUrl,
        secret: joinSecret,
        namespace: DEMO_NAMESPACE,
        services: [...plan.instances.map((i) => i.service), plan.gateway.service],
      })
    : {};

  const seed = await applySeedPoliciesOnce({ controlPlaneUrl: env.controlPlaneUrl, file: env.policiesFile });
  console.log(
    seed.applied
      ? `demo: applied the seed policies (${seed.policies} documents, revision ${seed.revision}): order-service canary 90/10, payment-service retries and circuit breaker, mesh-wide STRICT mTLS`
      : `demo: keeping the ${seed.policies} policies already stored (revision ${seed.revision})`,
  );

  const ctx: CommandContext = {
    joinTokens,
    ...context,
    sidecarEntry: env.sidecarEntry,
    python: env.python,
    catalogScript: env.catalogScript,
    controlPlaneUrl: env.controlPlaneUrl,
    otlpEndpoint: env.otlpEndpoint,
  };
  const specs = [
    ...plan.instances.flatMap((i) => [buildAppCommand(i, ctx), buildSidecarCommand(i, ctx)]),
    buildGatewayCommand(plan.gateway, ctx),
  ];
  const labelWidth = Math.max(...specs.map((s) => s.label.length));

  let phase: "starting" | "running" | "stopping" = "starting";
  const startup = new AbortController();
  const children: ManagedChild[] = [];
  // If this process exits without running stop (a second Ctrl-C, an exit during startup), still end the children.
  const killOnExit = () => children.forEach((c) => signalChild(c, "SIGTERM"));
  process.once("exit", killOnExit);

  for (const spec of specs) {
    const child = spawnChild(spec, labelWidth);
    children.push(child);
    void child.exited.then((exit) => {
      if (phase === "stopping") return;
      const message = `${spec.label} ${describeExit(exit)}`;
      if (phase === "starting") {
        startup.abort(new AppError("UNAVAILABLE", `${message} while the demo was starting; see its output above`));
        return;
      }
      console.error(`demo: ${spec.label} exited unexpectedly: ${describeExit(exit)}`);
    });
  }

  const stopAll = async () => {
    phase = "stopping";
    await stopChildren(children);
    process.off("exit", killOnExit);
  };

  const gatewayUrl = `http://127.0.0.1:${plan.gateway.port}/`;
  try {
    const deadlineMs = Date.now() + readyTimeoutMs;
    const hint = `is the control plane running at ${env.controlPlaneUrl}?`;
    await Promise.all(plan.instances.map((i) => waitForInstance(i, { deadlineMs, signal: startup.signal, hint })));
    await waitForOk("gateway sidecar", `http://127.0.0.1:${plan.gateway.adminPort}/ready`, { deadlineMs, signal: startup.signal, hint });
    console.log(`demo: gateway ready (port :${plan.gateway.port}, admin :${plan.gateway.adminPort})`);
    await waitForOk("the shop through the gateway", gatewayUrl, { deadlineMs, signal: startup.signal });
  } catch (error) {
    startup.abort(error); // the other waiters stop polling
    await stopAll();
    throw error;
  }
  phase = "running";
  console.log(`demo: ready — gateway ${gatewayUrl.replace(/\/$/, "")}`);

  let load: LoadGenerator | undefined;
  if (env.load) load = startLoad({ target: gatewayUrl, rps: env.rps });
  else console.log("demo: load generator off (TRELLIS_DEMO_LOAD=off)");

  return async () => {
    load?.stop();
    await stopAll();
  };
}

async function waitForInstance(instance: PlannedInstance, options: Parameters<typeof waitForOk>[2]): Promise<void> {
  const label = instanceLabel(instance);
  await waitForOk(`${label} app`, `http://127.0.0.1:${instance.appPort}/healthz`, { ...options, hint: undefined });
  await waitForOk(`${label} sidecar`, `http://127.0.0.1:${instance.adminPort}/ready`, options);
  console.log(`demo: ${label} ready (app :${instance.appPort}, sidecar :${instance.inboundPort}, admin :${instance.adminPort})`);
}
