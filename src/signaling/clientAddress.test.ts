import { proxyHops } from '../config';
import { clientAddress } from './SignalingServer';

const socket = (address: string, forwarded?: string) => ({ handshake: { address, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} } }) as never;

describe('clientAddress (http.trustProxy as a hop count)', () => {
	test('trustProxy false, true and N are 0, 1 and N hops', () => {
		expect([proxyHops(false), proxyHops(true), proxyHops(3)]).toEqual([0, 1, 3]);
	});
	test('without trustProxy the socket address, whatever the header says', () => {
		expect(clientAddress(socket('10.0.0.1', '6.6.6.6'), proxyHops(false))).toBe('10.0.0.1');
	});
	test('trustProxy true: one hop, the entry the proxy appended, not the one the client sent', () => {
		expect(clientAddress(socket('10.0.0.1', '6.6.6.6, 203.0.113.9'), proxyHops(true))).toBe('203.0.113.9');
		expect(clientAddress(socket('10.0.0.1', '203.0.113.9'), proxyHops(true))).toBe('203.0.113.9');
	});
	test.each([
		['6.6.6.6, 203.0.113.9', 1, '203.0.113.9'],
		['6.6.6.6, 203.0.113.9, 10.0.0.2', 2, '203.0.113.9'],
		['6.6.6.6,203.0.113.9 , , 10.0.0.2', 2, '203.0.113.9'],
		// Fewer entries than hops: the leftmost, as express does.
		['203.0.113.9', 2, '203.0.113.9'],
	])('X-Forwarded-For %j, %i hops: %s (a client cannot spoof past the proxies)', (forwarded, hops, expected) => {
		expect(clientAddress(socket('10.0.0.1', forwarded), hops)).toBe(expected);
	});
	test('no header behind a proxy: the socket address', () => {
		expect(clientAddress(socket('10.0.0.1'), 1)).toBe('10.0.0.1');
	});
});
