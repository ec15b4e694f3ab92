import { ApiException } from "@kubernetes/client-node";

/** Whether `err` is an API server answer with HTTP status `status` (e.g. 404, 409, 422). */
export function isApiStatus(err: unknown, status: number): err is ApiException<unknown> {
  return err instanceof ApiException && err.code === status;
}
