import type { StepResult } from '../../scripts/loadtest/run';
import { measurable, percentiles, perNodeCost, usPerPacket } from '../../scripts/scaling/figures';

/** A step of a load run with only what the figures read. */
function step(workerCpu: number[], packetsPerSecond: number, subscribers: number[] = [], extra: Partial<StepResult> = {}): StepResult {
	return {
		step: 1, peers: 0, publishers: 0, subscribers: 0, consumers: 10, expectedConsumers: 10, setupSeconds: 0, workerCpu, packetsPerSecond,
		mbitPerSecond: 0, loss: 0, sinkDrops: 0, generatorCpu: 0, errors: [],
		perWorker: subscribers.map((n) => ({ subscribers: n, consumers: 2 * n })), ...extra,
	};
}

test('µs per packet is the slope of all workers\' CPU against packets/s, the idle point included: idle falls out', () => {
	// 2 % idle over two workers, 20 µs a packet.
	const steps = [step([0.01 + 0.05, 0.01 + 0.05], 5000), step([0.01 + 0.1, 0.01 + 0.1], 10_000), step([0.01 + 0.15, 0.01 + 0.15], 15_000)];
	expect(usPerPacket(steps, 0.02)).toEqual({ us: expect.closeTo(20, 6), points: 3 });
	// One step and the idle point: the step's CPU above idle over its packets.
	expect(usPerPacket(steps.slice(0, 1), 0.02)!.us).toBeCloseTo(20, 6);
	expect(usPerPacket([], 0.02)).toBeUndefined();
});

test('each node\'s cost per subscriber and the subscribers per core it implies (derived)', () => {
	// node 1: 1 % idle + 0.4 % a subscriber; node 2: 0.5 % idle + 0.3 % a subscriber.
	const steps = [10, 20, 30].map((n) => step([0.01 + 0.004 * n, 0.005 + 0.003 * n], 0, [n, n]));
	const [one, two] = perNodeCost(steps, 0.8);
	expect(one!.cpuUsPerSubscriberSecond).toBeCloseTo(4000, 3);
	expect(one!.subscribersPerCoreDerived).toBeCloseTo((0.8 - 0.01) / 0.004, 3);
	expect(two!.subscribersPerCoreDerived).toBeCloseTo((0.8 - 0.005) / 0.003, 3);
});

test('steps over the CPU limit of the workers\' one core, with loss or missing consumers, are left out', () => {
	const steps = [step([0.3, 0.3], 1), step([0.5, 0.4], 2), step([0.1], 3, [], { loss: 0.05 }), step([0.1], 4, [], { consumers: 9 })];
	expect(measurable(steps, 0.8, 0.02).map((s) => s.packetsPerSecond)).toEqual([1]);
});

test('percentiles', () => {
	expect(percentiles([])).toBeUndefined();
	expect(percentiles(Array.from({ length: 100 }, (_, i) => 100 - i))).toEqual({ p50: 51, p95: 96, samples: 100 });
});
