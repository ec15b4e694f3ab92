/** A parsed selector (Calico or Kubernetes syntax), compiled to decide which label sets it selects. */
export interface Selector {
  /** The string it was parsed from. */
  readonly source: string;
  /** The label keys the selector reads, sorted and deduplicated (for memoising evaluations). */
  readonly keys: readonly string[];
  /** Decides whether a resource with `labels` is selected; never throws. */
  readonly matches: (labels: Readonly<Record<string, string>>) => boolean;
}
