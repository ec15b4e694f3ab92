import { V1DeleteOptions, V1Preconditions } from "@kubernetes/client-node";

/**
 * The body of a fenced DELETE: the API server deletes only when the object still has this uid
 * and/or resourceVersion, and answers 409 otherwise. Undefined fields are not sent.
 */
export function renderDeleteOptions(preconditions: {
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
}): V1DeleteOptions {
  const body = new V1DeleteOptions();
  const fence = new V1Preconditions();
  if (preconditions.uid !== undefined) fence.uid = preconditions.uid;
  if (preconditions.resourceVersion !== undefined) {
    fence.resourceVersion = preconditions.resourceVersion;
  }
  body.preconditions = fence;
  return body;
}
