import { fileURLToPath } from "node:url";

/** Absolute path of the `e2e/` workspace (this file lives in `e2e/src/harness/`). */
export const E2E_DIR = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
