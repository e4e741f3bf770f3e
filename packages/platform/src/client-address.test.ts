import { describe, expect, it } from 'vitest';
import { addressLimitKey } from './client-address.js';

describe('addressLimitKey', () => {
  it('an IPv4 address is itself, and so is its IPv4-mapped IPv6 form, however written', () => {
    expect(addressLimitKey('192.0.2.1')).toBe('192.0.2.1');
    for (const mapped of ['::ffff:192.0.2.1', '::FFFF:192.0.2.1', '::ffff:c000:201', '0:0:0:0:0:ffff:192.0.2.1', '0000:0000:0000:0000:0000:FFFF:C000:0201'])
      expect(addressLimitKey(mapped), mapped).toBe('192.0.2.1');
  });

  it('every address of one IPv6 /64 is one key, in any spelling; the next /64 is another', () => {
    const key = addressLimitKey('2001:db8::1');
    expect(key).toBe('2001:db8::/64');
    for (const same of ['2001:db8:0:0:ffff:ffff:ffff:ffff', '2001:DB8::abcd:1', '2001:0db8:0000:0000:0000:0000:0000:0002', '2001:db8::1%eth0', ' 2001:db8::7 '])
      expect(addressLimitKey(same), same).toBe(key);
    expect(addressLimitKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
  });

  it('takes the prefix length it is given', () => {
    expect(addressLimitKey('2001:db8:1:2:3::1', 48)).toBe('2001:db8:1::/48');
    expect(addressLimitKey('2001:db8:1:2:3::1', 56)).toBe('2001:db8:1::/56');
    expect(addressLimitKey('2001:db8:1:2ff:3::1', 56)).toBe('2001:db8:1:200::/56');
    expect(addressLimitKey('2001:db8::1', 128)).toBe('2001:db8::1/128');
    expect(addressLimitKey('2001:db8::2', 128)).not.toBe(addressLimitKey('2001:db8::1', 128));
  });

  it('drops a zone id: a link-local address is its /64 on any interface', () => {
    expect(addressLimitKey('fe80::1%eth0')).toBe('fe80::/64');
    expect(addressLimitKey('fe80::2%2')).toBe('fe80::/64');
  });

  it('everything that is not an IP address is one key, never an address of its own', () => {
    const keys = new Set(
      ['', 'garbage', '1.2.3', '127.1', '1.2.3.4.5', '256.1.1.1', '1.2.3.4%eth0', '2001:db8::g', '2001:db8:::1', 'unknown', '1.2.3.4, 5.6.7.8'].map((a) => addressLimitKey(a)),
    );
    expect([...keys]).toEqual(['invalid']);
  });
});
