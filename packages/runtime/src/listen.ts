// Binding a port is where most first-run failures happen; this turns them into one line that names the port
// and the environment variable that moves it, instead of a stack trace.
import type { Server } from "node:net";
import { AppError } from "./app-error.ts";

export type ListenOptions = { port: number; host: string; what: string; envVar: string };

export function listen(server: Server, { port, host, what, envVar }: ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (error.code === "EADDRINUSE") {
        reject(new AppError("CONFIG", `port ${port} (${what}) is already in use on ${host}; stop what holds it or set ${envVar} to another port`));
        return;
      }
      if (error.code === "EACCES") {
        reject(new AppError("CONFIG", `not allowed to listen on port ${port} (${what}); set ${envVar} to a port above 1024`));
        return;
      }
      reject(error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}
