import { memoryLimiters, type LimiterFactory } from '../cluster';
import { fleetConnectionCounts, memoryConnectionCounts, type ConnectionCounts } from './connectionCounts';

// The fleet's counts on limiters in memory here; test/integration/clusterLimits.test.ts runs them on Redis over two nodes.
describe.each<[string, () => ConnectionCounts]>([
	['memoryConnectionCounts', () => memoryConnectionCounts(2)],
	['fleetConnectionCounts', () => fleetConnectionCounts(memoryLimiters, 2)],
])('%s', (_name, make) => {
	test('refuses the address at the limit, not another; a release lets one more in, once', async () => {
		const counts = make();
		const [first, second] = [await counts.take('10.0.0.1'), await counts.take('10.0.0.1')];
		expect([first, second].every((release) => typeof release === 'function')).toBe(true);
		expect(await counts.take('10.0.0.1')).toBeUndefined();
		expect(await counts.take('10.0.0.2')).toBeInstanceOf(Function);

		first!();
		first!();
		expect(await counts.take('10.0.0.1')).toBeInstanceOf(Function);
		expect(await counts.take('10.0.0.1')).toBeUndefined();
	});

	test('refusals count nothing: after many, one release still lets one in', async () => {
		const counts = make();
		const [first] = [await counts.take('10.0.0.1'), await counts.take('10.0.0.1')];
		for (let i = 0; i < 5; i++) {
			expect(await counts.take('10.0.0.1')).toBeUndefined();
		}
		first!();
		expect(await counts.take('10.0.0.1')).toBeInstanceOf(Function);
	});
});

test('fleetConnectionCounts: a limiter that fails (not a refusal) rejects the take', async () => {
	const failing = (() => ({ consume: () => Promise.reject(new Error('store down')) })) as unknown as LimiterFactory;
	await expect(fleetConnectionCounts(failing, 2).take('10.0.0.1')).rejects.toThrow('store down');
});
