export { createTestDatabase, withDatabase, type TestDatabase } from "./test-database.ts";
export { startProcess, waitForHttp, type ManagedProcess } from "./process.ts";
