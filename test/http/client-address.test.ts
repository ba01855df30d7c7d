import { describe, expect, it } from 'vitest';
import { withoutPort } from '../../src/http/client-address.js';

/**
 * X-Forwarded-For entries as proxies write them: plain addresses, Azure Application Gateway's
 * `IP:port`, bracketed IPv6 with a port. The walk over them (trusted hops, the first untrusted one
 * is the client) runs end to end in test/e2e/replicas-caller-auth.test.ts.
 */
describe('an X-Forwarded-For entry without its port', () => {
  it('drops the port of IPv4 and bracketed IPv6 entries and leaves everything else as it is', () => {
    expect(withoutPort('203.0.113.7:5123')).toBe('203.0.113.7');
    expect(withoutPort(' 203.0.113.7 ')).toBe('203.0.113.7');
    expect(withoutPort('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(withoutPort('[2001:db8::1]')).toBe('2001:db8::1');
    expect(withoutPort('2001:db8::1')).toBe('2001:db8::1');
    expect(withoutPort('::ffff:203.0.113.7')).toBe('::ffff:203.0.113.7');
    expect(withoutPort('unknown')).toBe('unknown');
    expect(withoutPort('203.0.113.7:notaport')).toBe('203.0.113.7:notaport');
  });
});
