import { describe, expect, it } from "vitest";
import type {
  ListPage,
  ListPageRequest,
  WatchEvent,
  WatchRequest,
  WatchTransport,
} from "../create-watch-transport.js";
import type { WatchTimers } from "../watch-resource.js";
import { startClusterSecretWatch } from "./watch-cluster-secrets.js";

/** A Secret as the API server sends it. */
function makeWireSecret(name: string, resourceVersion: string, data: Record<string, string> = {}) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace: "rrfleet-system",
      resourceVersion,
      labels: { "rrfleet.io/cluster": "true", "rrfleet.io/label-env": "prod" },
    },
    type: "Opaque",
    data,
  };
}

/** One LIST answer, then one watch stream the test drives. */
function makeFakeTransport(items: unknown[]) {
  const lists: ListPageRequest[] = [];
  const watches: WatchRequest[] = [];
  let emit: ((event: WatchEvent) => void) | undefined;
  let opened: () => void = () => undefined;
  const streamOpened = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const transport: WatchTransport = {
    listPage: (request): Promise<ListPage> => {
      lists.push(request);
      return Promise.resolve({ items, resourceVersion: "10" });
    },
    watch: (request, onEvent, signal) => {
      watches.push(request);
      emit = onEvent;
      opened();
      return new Promise<void>((_resolve, reject) => {
        signal.addEventListener("abort", () => {
          reject(signal.reason as Error);
        });
      });
    },
  };
  return {
    transport,
    lists,
    watches,
    streamOpened,
    emit: (type: WatchEvent["type"], object: unknown) => {
      emit?.({ type, object });
    },
  };
}

const timers: WatchTimers = {
  now: () => new Date("2026-11-28T00:00:00Z"),
  sleep: () => Promise.resolve(),
  schedule: () => () => undefined,
};

describe("startClusterSecretWatch", () => {
  it("lists and watches only labelled Secrets of its namespace", async () => {
    const fake = makeFakeTransport([]);
    const watch = startClusterSecretWatch(
      fake.transport,
      { namespace: "rrfleet-system", onChange: () => undefined },
      timers,
    );
    await fake.streamOpened;
    expect(fake.lists[0]?.path).toBe("/api/v1/namespaces/rrfleet-system/secrets");
    expect(fake.lists[0]?.labelSelector).toBe("rrfleet.io/cluster=true");
    expect(fake.watches[0]?.path).toBe(fake.lists[0]?.path);
    expect(fake.watches[0]?.labelSelector).toBe("rrfleet.io/cluster=true");
    expect(fake.watches[0]?.resourceVersion).toBe("10");
    await watch.stop();
  });

  it("keeps each Secret's identity, labels and data, sorted by name, and follows events", async () => {
    const fake = makeFakeTransport([
      makeWireSecret("b", "5", { name: "YmJi" }),
      makeWireSecret("a", "4", { name: "YWFh" }),
    ]);
    let changes = 0;
    const watch = startClusterSecretWatch(
      fake.transport,
      {
        namespace: "rrfleet-system",
        onChange: () => {
          changes += 1;
        },
      },
      timers,
    );
    await fake.streamOpened;
    expect(watch.isSynced()).toBe(true);
    expect(watch.secrets()).toEqual([
      {
        namespace: "rrfleet-system",
        name: "a",
        resourceVersion: "4",
        labels: { "rrfleet.io/cluster": "true", "rrfleet.io/label-env": "prod" },
        data: { name: "YWFh" },
      },
      expect.objectContaining({ name: "b", resourceVersion: "5" }),
    ]);
    const [firstA] = watch.secrets();

    const afterList = changes;
    fake.emit("MODIFIED", makeWireSecret("b", "6", { name: "Y2Nj" }));
    expect(changes).toBe(afterList + 1);
    expect(watch.secrets()[1]?.data).toEqual({ name: "Y2Nj" });
    expect(watch.secrets()[0]).toBe(firstA);

    fake.emit("DELETED", makeWireSecret("a", "7"));
    expect(watch.secrets().map((s) => s.name)).toEqual(["b"]);
    expect(changes).toBe(afterList + 2);
    await watch.stop();
  });

  it("is not synced and keeps the error while the LIST fails", async () => {
    let rejected: () => void = () => undefined;
    const failed = new Promise<void>((resolve) => {
      rejected = resolve;
    });
    const transport: WatchTransport = {
      listPage: () => {
        rejected();
        return Promise.reject(new Error("secrets is forbidden"));
      },
      watch: () => Promise.resolve(),
    };
    const stopSleeping = new AbortController();
    const watch = startClusterSecretWatch(
      transport,
      { namespace: "rrfleet-system", onChange: () => undefined },
      {
        ...timers,
        // Hold the loop in its backoff so the state after one failure can be read.
        sleep: () =>
          new Promise((resolve) => {
            stopSleeping.signal.addEventListener("abort", () => {
              resolve();
            });
          }),
      },
    );
    await failed;
    await new Promise((resolve) => setImmediate(resolve));
    expect(watch.isSynced()).toBe(false);
    expect(watch.lastError()).toContain("secrets is forbidden");
    expect(watch.secrets()).toEqual([]);
    stopSleeping.abort();
    await watch.stop();
  });
});
