import { clientAddress } from './SignalingServer';

const socket = (address: string, forwarded?: string) => ({ handshake: { address, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} } }) as never;

describe('clientAddress (http.trustProxy)', () => {
	test('without trustProxy the socket address, whatever the header says', () => {
		expect(clientAddress(socket('10.0.0.1', '6.6.6.6'), false)).toBe('10.0.0.1');
	});
	test('trusting every hop: the first address in X-Forwarded-For', () => {
		expect(clientAddress(socket('10.0.0.1', '203.0.113.9, 10.0.0.2'), true)).toBe('203.0.113.9');
	});
	test('trusting N hops: the address N from the right (a client cannot spoof past the proxy)', () => {
		expect(clientAddress(socket('10.0.0.1', '6.6.6.6, 203.0.113.9'), 1)).toBe('203.0.113.9');
		expect(clientAddress(socket('10.0.0.1'), 1)).toBe('10.0.0.1');
	});
});
