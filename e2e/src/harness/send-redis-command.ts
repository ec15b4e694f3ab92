import { createConnection } from "node:net";

/**
 * One inline Redis command over a raw socket, unauthenticated; resolves with the first line of
 * the reply (`-NOAUTH Authentication required.` from a Redis that demands a login).
 */
export function sendRedisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.write(`${command}\r\n`);
    });
    let reply = "";
    socket.setTimeout(5_000, () => socket.destroy(new Error("no reply from Redis")));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) {
        socket.end();
        resolve(reply.split("\r\n")[0] ?? "");
      }
    });
    socket.once("error", reject);
  });
}
