import fc from "fast-check";

// Property tests explore new random clusters on every local run; CI pins the seed so a red build
// is reproducible (fast-check prints the seed and the shrunk counterexample of any failure).
if (process.env["CI"] === "true") fc.configureGlobal({ seed: 20_261_128 });
