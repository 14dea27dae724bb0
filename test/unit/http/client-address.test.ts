import { describe, expect, it } from "vitest";
import { clientAddress, normalizeAddress } from "../../../src/http/client-address.js";
import { fromWebRequest } from "../../../src/http/web-request.js";

const request = (remoteAddress: string, forwarded?: string) =>
  fromWebRequest(
    new Request("http://localhost/mcp", {
      headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded },
    }),
    remoteAddress,
  );

describe("clientAddress (pre-auth limiter key)", () => {
  it("is the peer unless trustProxy; then the last X-Forwarded-For entry", () => {
    expect(clientAddress(request("10.0.0.5", "203.0.113.9"), false)).toBe("10.0.0.5");
    expect(clientAddress(request("10.0.0.5", "203.0.113.9"), true)).toBe("203.0.113.9");
    expect(clientAddress(request("10.0.0.5", "1.1.1.1, 203.0.113.9"), true)).toBe("203.0.113.9");
    expect(clientAddress(request("10.0.0.5", "203.0.113.9, not-an-ip"), true)).toBe("10.0.0.5");
    expect(clientAddress(request("10.0.0.5"), true)).toBe("10.0.0.5");
  });

  it.each([
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002::6", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["192.0.2.1", "192.0.2.1"],
    ["", "unknown"],
  ])("normalizes %s to %s", (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });
});
