// @trellis/testkit declares the value its globalSetup provides in global-setup.ts, which this project does not
// compile, so tsc rejects testkit's inject("postgresAdminUrl"). Declared again here (identical declarations
// merge); remove once testkit declares it beside createTestDatabase.
import "vitest";

declare module "vitest" {
  // eslint-disable-next-line @typescript-eslint/consistent-type-definitions
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
