export * from "./selector.js";
export {
  allCalicoSelector,
  parseCalicoSelector,
  quoteCalicoValue,
  tryParseCalicoSelector,
} from "./calico-selector.js";
export type { CalicoSelector } from "./calico-selector.js";
export { validateLabelKey, validateLabelValue } from "./label-names.js";
export { parseLabelSelector } from "./label-selector.js";
export type { LabelSelector } from "./label-selector.js";
export { SelectorSyntaxError } from "./selector-syntax-error.js";
