// The demo bundle's entry: `node dist/main.js` runs the launcher (apps, sidecars, gateway, load);
// `node dist/main.js service <name>` runs one TypeScript demo service, which is how the launcher starts them.
import { runMain } from "@trellis/runtime";
import { readDemoEnv, readInheritedEnv, readServiceEnv } from "./env.ts";
import { startDemo } from "./launcher/start-demo.ts";
import { watchParent } from "./parent-watch.ts";
import { nodeServiceNames, startService } from "./services/index.ts";

const [command, name] = process.argv.slice(2);

if (command === "service" && name !== undefined) {
  runMain(name, async () => {
    const stopWatching = watchParent();
    const stop = await startService(name, readServiceEnv());
    return async () => {
      stopWatching();
      await stop();
    };
  });
} else if (command === undefined) {
  runMain("demo", async () => {
    // Started by `trellis up` (or anything else): if that parent dies, take the whole demo down with us.
    const stopWatching = watchParent();
    const entry = process.argv[1] ?? "";
    // Same node flags (a TypeScript loader under tsx) minus a debugger port that two processes cannot share.
    const nodeFlags = process.execArgv.filter((flag) => !flag.startsWith("--inspect"));
    const stop = await startDemo(readDemoEnv(), {
      self: { command: process.execPath, args: [...nodeFlags, entry] },
      nodePath: process.execPath,
      inheritedEnv: readInheritedEnv(),
    });
    return async () => {
      stopWatching();
      await stop();
    };
  });
} else {
  console.error(`usage: node dist/main.js                  run the demo mesh (see apps/demo/src/env.ts for settings)
       node dist/main.js service <name>   run one demo service (${nodeServiceNames.join(", ")})`);
  process.exit(2);
}
