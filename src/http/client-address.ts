import { isIP } from "node:net";
import type { InboundRequest } from "./exchange.js";

/**
 * Who is calling, for the pre-auth limiter (pipeline stage 4). The socket's peer, unless
 * `trustProxy` is set: then the address the proxy in front appended to `X-Forwarded-For` (its last
 * entry — entries before it are whatever the client sent, and a client can send anything).
 * IPv4-mapped IPv6 becomes IPv4; IPv6 is reduced to its /64, the block one host usually holds.
 */
export function clientAddress(request: InboundRequest, trustProxy: boolean): string {
  let address = request.remoteAddress;
  if (trustProxy) {
    const forwarded = request.header("x-forwarded-for");
    if (forwarded !== undefined) {
      const last = forwarded.slice(forwarded.lastIndexOf(",") + 1).trim();
      if (isIP(last) !== 0) address = last;
    }
  }
  return normalizeAddress(address);
}

/** `::ffff:10.0.0.1` → `10.0.0.1`; `2001:db8:1:2:3:4:5:6` → `2001:db8:1:2::/64`; anything else as is. */
export function normalizeAddress(address: string): string {
  const bare = address.split("%")[0] ?? address;
  if (isIP(bare) !== 6) return bare === "" ? "unknown" : bare;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped?.[1] !== undefined) return mapped[1];
  const [head = "", tail = ""] = bare.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = bare.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
