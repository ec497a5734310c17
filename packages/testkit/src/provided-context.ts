// What globalSetup hands to test files (vitest provide/inject): the run's Postgres server URL.
// Declaration merging with vitest's ProvidedContext needs an interface.
declare module "vitest" {
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
