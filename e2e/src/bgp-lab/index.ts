export * from "./calico-node-standin.js";
export * from "./compare-with-model.js";
export * from "./lab-network.js";
export * from "./measure-scenario.js";
export * from "./render-bird-config.js";
export * from "./route-judge.js";
export * from "./start-bgp-lab.js";
export * from "./expect-clean-scenario.js";
