import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** One counter per IPv6 /64 unless configured otherwise: the network one subscriber is usually given. */
export const DEFAULT_IPV6_PREFIX = 64;

/** What every address that is not an IP address is counted under. */
const NOT_AN_ADDRESS = 'invalid';

/**
 * The key one client address is counted under by every per-address limit (login throttle,
 * registrations, password resets). An IPv4 address is itself, and so is its IPv4-mapped form
 * (`::ffff:192.0.2.1`, what a dual-stack socket reports); an IPv6 address stands for its network of
 * `ipv6Prefix` bits (written `2001:db8::/64`), since a client given a /64 can use a new address for
 * every try; a zone id (`%eth0`) is dropped. Anything that is not an IP address (a garbled
 * `X-Forwarded-For`) shares one key, so varying the garbage buys no fresh counter.
 */
export function addressLimitKey(address: string, ipv6Prefix: number = DEFAULT_IPV6_PREFIX): string {
  const text = address.trim();
  const kind = isIP(text);
  if (kind === 4) return ipaddr.IPv4.parse(text).toString();
  if (kind !== 6) return NOT_AN_ADDRESS;
  const ip = ipaddr.IPv6.parse(text.split('%')[0]!);
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address().toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${ip.toNormalizedString()}/${ipv6Prefix}`);
  return `${network.toRFC5952String()}/${ipv6Prefix}`;
}
