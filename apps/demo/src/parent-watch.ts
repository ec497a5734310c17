// Children must not outlive the launcher, even when it is killed with SIGKILL and cannot stop them: each child
// polls its parent pid and stops itself (SIGTERM to itself, so its own clean shutdown runs) once re-parented.

const pollMs = 1000;
const forceExitMs = 3000;

/** For our own processes (the TypeScript services, the launcher). */
export function watchParent(onOrphaned: () => void = stopSelf): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}

function stopSelf(): void {
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => process.exit(1), forceExitMs).unref();
}

const preloadSource = `const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => process.exit(1), ${forceExitMs}).unref();
}, ${pollMs});
timer.unref();`;

/** The same watch for Node programs we do not own (the sidecar): pass as `node --import <this> <entry>`. */
export const parentWatchImport = `data:text/javascript,${encodeURIComponent(preloadSource)}`;
