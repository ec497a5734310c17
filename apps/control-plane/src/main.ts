// The control-plane process: read env, connect to Postgres (migrated by `trellis up` before apps start), serve.
import { connectDatabase } from "@trellis/db";
import { runMain } from "@trellis/runtime";
import { startControlPlane } from "./control-plane.ts";
import { readCaSettings, readEnv } from "./env.ts";
import { applyRuntimeFlags } from "./runtime-flags.ts";

runMain("control-plane", async () => {
  applyRuntimeFlags();
  const env = readEnv();
  const db = await connectDatabase({ url: env.DATABASE_URL });
  const controlPlane = await startControlPlane({
    db,
    port: env.TRELLIS_CONTROL_PLANE_PORT,
    host: env.TRELLIS_CONTROL_PLANE_HOST,
    ca: readCaSettings(env),
    disconnectGraceMs: env.TRELLIS_DISCONNECT_GRACE,
  });
  console.log(`control-plane: listening on http://${env.TRELLIS_CONTROL_PLANE_HOST}:${controlPlane.port} (REST and h2c config stream)`);
  return async () => {
    await controlPlane.stop();
    await db.close();
  };
});
