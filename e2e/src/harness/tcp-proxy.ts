import { createServer, connect, type Server, type Socket } from "node:net";

/** A loopback TCP proxy that can stop forwarding without closing anything (a half-open link). */
export interface TcpProxy {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** Client connections accepted so far. */
  connections(): number;
  /** Ids (1, 2, …, in accept order) of the connections open now. */
  openConnectionIds(): readonly number[];
  /**
   * Stops forwarding bytes in both directions on every connection, current and new, without
   * closing a socket: to both ends the link looks alive but silent (a stalled NAT, a dead peer).
   * The proxy keeps reading and holds what it reads, so it still sees a client close its end
   * (that closes the connection, as a client giving up would); the server's side stays held.
   */
  freeze(): void;
  /** Forwards again: first what was held back (bytes, then a held end of stream). */
  resume(): void;
  /** Destroys every connection and stops listening; idempotent. */
  close(): Promise<void>;
}

/** Where the proxy forwards to. */
export interface TcpProxyTarget {
  readonly host: string;
  readonly port: number;
}

/** One direction of a connection: what is held back while frozen. */
interface Lane {
  readonly from: Socket;
  readonly to: Socket;
  held: Buffer[];
  endHeld: boolean;
}

interface Connection {
  readonly id: number;
  readonly client: Socket;
  readonly upstream: Socket;
  readonly lanes: readonly [Lane, Lane];
  /** The server side closed or failed while frozen: close the client on resume. */
  upstreamGone: boolean;
}

/**
 * Starts a TCP proxy on a free 127.0.0.1 port forwarding to `target`. Bytes pass untouched, so
 * TLS goes through end to end (the client verifies the target's certificate, which must be valid
 * for 127.0.0.1). A client closing or failing closes the connection at once; the server side
 * closing or failing does too, except while frozen, when it is held until {@link TcpProxy.resume}.
 */
export async function startTcpProxy(target: TcpProxyTarget): Promise<TcpProxy> {
  const open = new Set<Connection>();
  let frozen = false;
  let accepted = 0;

  const teardown = (connection: Connection): void => {
    open.delete(connection);
    connection.client.destroy();
    connection.upstream.destroy();
  };

  const flush = (lane: Lane): void => {
    for (const chunk of lane.held.splice(0)) lane.to.write(chunk);
    if (lane.endHeld) {
      lane.endHeld = false;
      lane.to.end();
    }
  };

  const forward = (lane: Lane): void => {
    lane.from.on("data", (chunk: Buffer) => {
      if (frozen) {
        lane.held.push(chunk);
        return;
      }
      if (!lane.to.write(chunk)) {
        lane.from.pause();
        lane.to.once("drain", () => lane.from.resume());
      }
    });
    lane.from.on("end", () => {
      if (frozen) lane.endHeld = true;
      else lane.to.end();
    });
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    const upstream = connect(target.port, target.host);
    const connection: Connection = {
      id: accepted,
      client,
      upstream,
      lanes: [
        { from: client, to: upstream, held: [], endHeld: false },
        { from: upstream, to: client, held: [], endHeld: false },
      ],
      upstreamGone: false,
    };
    open.add(connection);
    const clientGone = (): void => {
      teardown(connection);
    };
    // A reset or refused upstream (an API server restarting) closes the client side too, but a
    // frozen link hides it until it resumes.
    const upstreamGone = (): void => {
      if (frozen) connection.upstreamGone = true;
      else teardown(connection);
    };
    client.on("error", clientGone);
    client.on("close", clientGone);
    upstream.on("error", upstreamGone);
    upstream.on("close", upstreamGone);
    for (const lane of connection.lanes) forward(lane);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error("the TCP proxy is not listening on a TCP port");
  }

  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    connections: () => accepted,
    openConnectionIds: () => [...open].map((connection) => connection.id),
    freeze: () => {
      frozen = true;
    },
    resume: () => {
      frozen = false;
      for (const connection of [...open]) {
        for (const lane of connection.lanes) flush(lane);
        // End, not destroy: the held bytes just written must still reach the client.
        if (connection.upstreamGone) connection.client.end();
      }
    },
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err === undefined) resolve();
          else reject(err);
        });
        for (const connection of [...open]) teardown(connection);
      });
      return closing;
    },
  };
}
