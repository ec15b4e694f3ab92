import { describeEntryPointNodeCheck } from "@rrfleet/telemetry/testing";

// Through the compiled entry point: the package's `test` script builds dist/ first.
describeEntryPointNodeCheck("rrfleet-applier", new URL("../dist/main.js", import.meta.url));
