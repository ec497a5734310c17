#!/usr/bin/env node
// The `trellis` command. It runs the CLI's TypeScript source through tsx, so `npx trellis` works right after
// `npm install`, with no build step; the processes it starts (`trellis up`) run their bundled dist/ builds.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
